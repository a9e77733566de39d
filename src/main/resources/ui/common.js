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
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
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

/** Wall-clock time in milliseconds with sub-millisecond precision where the browser offers it. */
export function nowMs() {
  return performance.timeOrigin + performance.now();
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
   * @param options.resume   optional function returning {"<job id>": lastCounter} to send on reconnects
   * @param options.onMessage called with each message object (frames holding an array are unpacked)
   * @param options.onState  called with (state, detail): state is connecting | open | closed
   * @param options.onReopen called after a reconnect has been opened (not on the first open)
   */
  constructor(options) {
    this.options = options;
    this.opens = 0;
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
    const resume = reconnect && this.options.resume ? this.options.resume() : null;
    if (resume) message.resume = resume;
    this.ws.send(JSON.stringify(message));
    this.state('open', resume ? 'resumed from ' + JSON.stringify(resume) : '');
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
