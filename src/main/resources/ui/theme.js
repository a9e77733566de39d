// Applies the saved theme before the page paints (a classic script in <head>, so there is no flash of the other
// theme). Without a saved choice the system preference decides.
(function () {
  let theme = null;
  try {
    theme = localStorage.getItem('jobstream-theme');
  } catch (e) {
    theme = null; // storage disabled: follow the system
  }
  if (theme !== 'light' && theme !== 'dark') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  document.documentElement.dataset.theme = theme;
})();
