// The login page: shows the error the server signals with ?error=1 (the form itself needs no script).
if (new URLSearchParams(window.location.search).has('error')) {
  document.getElementById('login-error').hidden = false;
}
