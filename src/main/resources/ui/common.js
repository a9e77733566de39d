// Shared by both pages: cookies, REST calls, the websocket connection, small DOM and time helpers.

/** Reads a cookie the server set for scripts (the csrftoken the websocket protocol asks us to echo). */
export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const c = part.trim();
    if (c.startsWith(name + '=')) return decodeURIComponent(c.substring(name.length + 1));
  }
  return null;
}

export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (response.status === 401) toLogin();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** The login expired (or never was): back to the login page, returning here afterwards. */
export function toLogin() {
  window.location.assign('/login/?next=' + encodeURIComponent(window.location.pathname + window.location.search));
}

/**
 * POSTs as the logged-in user. Django's CSRF rule: a cookie-authenticated POST must echo the csrftoken cookie in the
 * X-CSRFToken header, which another site's page cannot read and so cannot forge.
 */
export function post(url, body) {
  return fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRFToken': readCookie('csrftoken') || '', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const logout = document.getElementById('logout');
if (logout) {
  logout.addEventListener('click', async () => {
    await post('/logout/');
    window.location.assign('/login/');
  });
}

/** REST lists come as AWX pages ({results: [...]}) or, count-free, as {results} or a bare array. */
export function resultsOf(body) {
  if (Array.isArray(body)) return body;
  return body && Array.isArray(body.results) ? body.results : [];
}

/** Creates an element; text goes in as textContent, never as HTML. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

let wallOffset = 0; // what to add to the page's monotonic clock to read the wall clock (see nowMs)

/**
 * Wall-clock time in milliseconds, with sub-millisecond precision where the browser offers it. The precise clock
 * (`performance.now()` from the page's load) is monotonic: it does not follow the wall clock when the machine sets its
 * time or sleeps, so a page open for hours could read lags seconds off, even negative (seen in CI: -6 s). `Date.now()`
 * follows the wall clock to the millisecond; whenever the two differ by more than 2 ms, the precise one is moved onto it.
 */
export function nowMs() {
  const precise = performance.timeOrigin + performance.now();
  const wall = Date.now();
  if (Math.abs(precise + wallOffset - wall) > 2) wallOffset = wall - precise;
  return precise + wallOffset;
}

const CREATED = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * Parses an AWX `created` value to epoch milliseconds, keeping microseconds as a fraction.
 * A value without an offset is UTC, as AWX treats it; Date.parse alone would read it as local time.
 */
export function parseCreated(text) {
  if (typeof text !== 'string') return NaN;
  const m = CREATED.exec(text.trim());
  if (!m) return Date.parse(text);
  const fraction = (m[3] || '').padEnd(6, '0');
  let zone = m[4] || 'Z';
  if (/^[+-]\d{4}$/.test(zone)) zone = zone.slice(0, 3) + ':' + zone.slice(3);
  const whole = Date.parse(`${m[1]}T${m[2]}.${fraction.slice(0, 3)}${zone.toUpperCase()}`);
  return whole + Number(fraction.slice(3, 6)) / 1000;
}

export function formatDateTime(text) {
  const ms = parseCreated(text);
  if (!Number.isFinite(ms)) return text || '—';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export const FINAL_STATUSES = new Set(['successful', 'failed', 'error', 'canceled']);

/** A status badge: the class only ever comes from our own list, the text is the server's word. */
export function statusBadge(status) {
  const known = ['new', 'pending', 'waiting', 'running', 'successful', 'failed', 'error', 'canceled'];
  const badge = el('span', 'badge', status || 'unknown');
  badge.classList.add(known.includes(status) ? 'badge-' + status : 'badge-unknown');
  return badge;
}

/**
 * The websocket connection in AWX's protocol (reference §4): the server greets with {"accept": true}; we send
 * the subscribe message with `xrftoken` on every open (a subscribe replaces the whole set, so re-sending it
 * after a reconnect restores everything); a close with any code other than 1000 reconnects after 1 s, as
 * AWX's UI does.
 */
export class Socket {
  /**
   * @param options.groups   the `groups` object of the subscribe message
   * @param options.resume   optional function returning {"<job id>": lastCounter} (or null) to send on each open
   * @param options.onMessage called with each message object (frames holding an array are unpacked)
   * @param options.onState  called with (state, detail): state is connecting | open | closed
   * @param options.onReopen called after a reconnect has been opened (not on the first open)
   */
  constructor(options) {
    this.options = options;
    this.opens = 0;
    this.resumes = 0; // reconnects that asked to resume
    this.ws = null;
    this.stopped = false;
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000, 'page closed');
  }

  connect() {
    if (this.stopped) return; // a reconnect timer that outlived stop()
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.state('connecting', this.opens > 0 ? `reconnect #${this.opens}` : '');
    const ws = new WebSocket(`${scheme}//${location.host}/websocket/`);
    this.ws = ws;
    ws.addEventListener('open', () => this.opened());
    ws.addEventListener('message', (e) => this.received(e.data));
    ws.addEventListener('close', (e) => this.closed(e));
  }

  opened() {
    const reconnect = this.opens > 0;
    this.opens++;
    const message = { xrftoken: readCookie('csrftoken'), groups: this.options.groups };
    // SPEC §5: the last counter seen per job, so a server that resumes replays what we missed; one that does not
    // ignores the key and the page's REST gap-fill covers the stretch instead
    const resume = this.options.resume ? this.options.resume() : null;
    if (resume) message.resume = resume;
    if (resume && reconnect) this.resumes++;
    this.ws.send(JSON.stringify(message));
    this.state('open', resume && reconnect ? 'resumed from ' + JSON.stringify(resume) : '');
    if (reconnect && this.options.onReopen) this.options.onReopen();
  }

  received(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      console.warn('websocket: not JSON', e);
      return;
    }
    const messages = Array.isArray(message) ? message : [message];
    for (const m of messages) {
      if (m && m.error) this.state('open', 'server: ' + m.error);
      this.options.onMessage(m);
    }
  }

  closed(event) {
    this.ws = null;
    if (this.stopped || event.code === 1000) {
      this.state('closed', `code ${event.code}`);
      return;
    }
    this.state('closed', `code ${event.code}, reconnecting in 1 s`);
    setTimeout(() => this.connect(), 1000);
  }

  state(state, detail) {
    if (this.options.onState) this.options.onState(state, detail);
  }
}

/** Shows the connection state in the page's #conn element. */
export function showConnection(state, detail) {
  const node = document.getElementById('conn');
  if (!node) return;
  node.dataset.state = state;
  node.querySelector('.conn-state').textContent = state;
  node.querySelector('.conn-detail').textContent = detail || '';
}

/** Switches between the dark and light theme and remembers the choice (theme.js applies it on load). */
export function toggleTheme() {
  const next = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem('jobstream-theme', next);
  } catch (e) {
    // storage disabled: the choice lasts for this page only
  }
  return next;
}

/** A duration in seconds as "1h 02m", "3m 07s" or "4.2 s". */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return seconds.toFixed(1) + ' s';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m` : `${m}m ${pad(s % 60)}s`;
}

/** Seconds a job has run: to `finished`, or to now while it runs; from `started`, else `created`. */
export function jobSeconds(job, nowMillis = Date.now()) {
  const start = parseCreated(job.started || job.created);
  if (!Number.isFinite(start)) return NaN;
  const end = job.finished ? parseCreated(job.finished) : (FINAL_STATUSES.has(job.status) ? NaN : nowMillis);
  if (!Number.isFinite(end)) return Number.isFinite(job.elapsed) && job.elapsed > 0 ? job.elapsed : NaN;
  return Math.max(0, (end - start) / 1000);
}
