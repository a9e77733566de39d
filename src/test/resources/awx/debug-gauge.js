// A stand-in for AWX's debug.js console script (the job event performance debugging guide), written for
// DebugScriptBrowserIT, used when the guide itself is not next to the repository. It leans on the page exactly where
// AWX's script does: global functions, jQuery's ready/append/html, a button with an inline onclick handler, inline
// style attributes, a wss URL built from window.location, the csrftoken cookie echoed as xrftoken, a subscribe
// message with string job ids and a "control" group, and lag taken from each message's "created".
var gaugeSocket;
var gaugeLags = [];

function listenJob() {
  var job = $('#jobid').val();
  gaugeSocket.send(JSON.stringify({
    "groups": {"jobs": ["status_changed", "summary"], "job_events": [job], "control": ["limit_reached_1"]},
    "xrftoken": cookieValue('csrftoken')}));
}

function cookieValue(name) {
  var found = null;
  document.cookie.split(';').forEach(function (part) {
    var kv = part.trim().split('=');
    if (kv[0] === name) found = kv.slice(1).join('=');
  });
  return found;
}

function gaugeText(lags) {
  var sum = 0, max = 0;
  lags.forEach(function (l) { sum += l; if (l > max) max = l; });
  var avg = sum / lags.length;
  var variance = 0;
  lags.forEach(function (l) { variance += (l - avg) * (l - avg); });
  return "Lag avg " + avg + " stdev " + Math.sqrt(variance / lags.length) + " max " + max;
}

$(document).ready(function () {
  $('body').append('<div id="wsdebug_wrapper" style="position:fixed; bottom: 0; left: 0">'
    + '<div id="wsdebug" width="100%" style="background-color: #ABBAEA; font-size: 48px;">Hello World</div><br>'
    + '<input id="jobid" type="text"><input id="dolisten" type="button" value="Submit" onclick="listenJob()"></div>');
  gaugeSocket = new WebSocket("wss://" + window.location.hostname + ":" + window.location.port + "/websocket/");
  gaugeSocket.addEventListener('message', function (message) {
    var e = JSON.parse(message.data);
    if ('created' in e) {
      gaugeLags.push(Math.round(Date.now() / 1000) - Math.round(Date.parse(e['created']) / 1000));
      if (gaugeLags.length > 1024) gaugeLags.shift();
      $('#wsdebug').html('<pre>\n' + gaugeText(gaugeLags) + '\n</pre>');
    }
  });
});
