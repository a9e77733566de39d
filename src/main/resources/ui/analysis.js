// Shared by the pages that explain a run (host x task matrix, timeline, compare): the page chrome and keys, the SPEC
// §11 shapes read into plain objects, status colours and letters, polling that slows down for big jobs, and a
// virtual list of fixed-height rows for long tables.
import { FINAL_STATUSES, el, getJson, parseCreated, resultsOf, statusBadge, toLogin, toggleTheme } from './common.js';

export const $ = (id) => document.getElementById(id);

/** The job id in /jobs/<id>/... and, for compare, the other job's. */
export function pathJobs() {
  const m = /^\/jobs\/(\d+)(?:\/compare\/(\d+)?)?/.exec(location.pathname) || [];
  return { id: Number(m[1]), other: m[2] ? Number(m[2]) : null };
}

/**
 * Result statuses, worst first (a cell shows its worst). Letters keep the matrix readable without colour (colour-blind
 * readers, printouts); colours are CSS variables so both themes apply.
 */
export const STATUSES = {
  failed: { letter: 'F', color: '--bad', rank: 0 },
  unreachable: { letter: 'U', color: '--unreachable', rank: 1 },
  running: { letter: 'r', color: '--accent', rank: 2 },
  changed: { letter: 'c', color: '--warn', rank: 3 },
  rescued: { letter: 'R', color: '--warn', rank: 4 },
  ignored: { letter: 'i', color: '--ignored', rank: 5 },
  ok: { letter: 'o', color: '--ok', rank: 6 },
  skipped: { letter: 's', color: '--muted', rank: 7 },
  incomplete: { letter: 'x', color: '--unreachable', rank: 1 },
};

export function statusOf(name) {
  return STATUSES[name] || { letter: '?', color: '--muted', rank: 8 };
}

/** The worse of two statuses (for a task's bar, a host's row). */
export function worse(a, b) {
  if (!a) return b;
  if (!b) return a;
  return statusOf(a).rank <= statusOf(b).rank ? a : b;
}

/** The theme's colours as canvas fill styles, read again when the theme changes. */
export function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const read = (name) => css.getPropertyValue(name).trim();
  const colors = {};
  for (const name of ['--bg', '--panel', '--panel-2', '--border', '--text', '--muted', '--accent', '--ok', '--warn',
    '--bad', '--unreachable', '--ignored', '--hit', '--target']) colors[name] = read(name);
  return colors;
}

function seconds(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}

/** The compact timeline's status letters (its `letters` field says the same). */
export const LETTER_STATUS = {
  o: 'ok', c: 'changed', f: 'failed', i: 'ignored', s: 'skipped', u: 'unreachable', r: 'running', x: 'incomplete',
};

/**
 * One host's result in a task of the compact timeline (status, start, end, duration, elapsed while running, slow),
 * made when first asked for.
 */
class MatrixCell {
  constructor(name, status, start, ms, slow, received) {
    this.name = name;
    this.status = status;
    this.start = start;
    this.end = status === 'running' || ms < 0 ? NaN : start + ms;
    this.duration = status === 'running' || ms < 0 ? NaN : ms / 1000;
    this.ms = ms;
    this.received = received;
    this.counter = null;
    this.slow = slow;
  }

  /**
   * While running: the server's elapsed time at its answer plus the page's clock since (a poll answered 304 keeps
   * the answer, and the server's clock, not the browser's, says when the host started).
   */
  get elapsed() {
    if (this.status !== 'running' || this.ms < 0) return NaN;
    return (this.ms + Math.max(0, Date.now() - this.received)) / 1000;
  }
}

/**
 * A task's hosts in the compact timeline, read like a Map of host name to result (get, has, values,
 * size) but kept as the answer's per-host string and arrays: 200,000 cells are not turned into objects for a page
 * that draws a few thousand of them.
 */
class MatrixHosts {
  constructor(names, index, t, taskStart, size, received) {
    Object.assign(this, {
      names, index, cells: String(t.cells || ''), startMs: t.start_ms || [], ms: t.ms || [], taskStart, size, received,
    });
    this.slowSet = new Set(Array.isArray(t.slow) ? t.slow : []);
    this.made = null;
  }

  at(i) {
    const letter = this.cells[i];
    if (letter === undefined || letter === '.') return undefined;
    if (this.made === null) this.made = new Array(this.cells.length);
    let cell = this.made[i];
    if (cell === undefined) {
      cell = new MatrixCell(this.names[i], LETTER_STATUS[letter] || letter, this.taskStart + Number(this.startMs[i] || 0),
        Number(this.ms[i] ?? -1), this.slowSet.has(i), this.received);
      this.made[i] = cell;
    }
    return cell;
  }

  get(name) {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.at(i);
  }

  has(name) {
    return this.get(name) !== undefined;
  }

  /** A host's status letter without making its cell (the matrix draws thousands a frame). */
  letter(name) {
    const i = this.index.get(name);
    return i === undefined ? '.' : this.cells[i] || '.';
  }

  * values() {
    for (let i = 0; i < this.cells.length; i++) if (this.cells[i] !== '.') yield this.at(i);
  }

  * keys() {
    for (const h of this.values()) yield h.name;
  }

  [Symbol.iterator]() {
    return this.values();
  }
}

/**
 * The compact timeline (`?format=matrix`: hosts once, per task a status letter per host and integer-ms starts and
 * durations) as {tasks, hosts}: per task uuid, play, task, start, end, duration, its worst status, whether it
 * runs, and its hosts; hosts in the answer's order (the order they first appear).
 */
export function readMatrix(body, received = Date.now()) {
  const names = Array.isArray(body && body.hosts) ? body.hosts.map(String) : [];
  const index = new Map(names.map((n, i) => [n, i]));
  const rank = {};
  for (const [letter, status] of Object.entries(LETTER_STATUS)) rank[letter] = statusOf(status).rank;
  const list = Array.isArray(body && body.tasks) ? body.tasks : [];
  const tasks = list.map((t, i) => {
    const cells = String(t.cells || '');
    let best = '';
    let size = 0;
    for (let k = 0; k < cells.length; k++) {
      const c = cells[k];
      if (c === '.') continue;
      size++;
      if (best === '' || rank[c] < rank[best]) best = c;
    }
    const start = parseCreated(t.start);
    const end = parseCreated(t.end);
    let duration = seconds(t.duration);
    if (!Number.isFinite(duration) && Number.isFinite(start) && Number.isFinite(end)) duration = (end - start) / 1000;
    return {
      index: i, uuid: t.uuid || '', play: t.play || '', task: t.task || '', start, end, duration,
      hosts: new MatrixHosts(names, index, t, start, size, received), status: best ? LETTER_STATUS[best] || '' : '',
      running: t.running === true || cells.includes('r'),
    };
  });
  return { tasks, hosts: names };
}

/**
 * The compact timeline of the job, or null when it has not changed since the answer whose ETag is `etag` (a 304:
 * a finished job's page polls for nothing, a running one's gets a new answer only when something happened).
 */
export async function fetchMatrix(jobId, etag = null) {
  const url = `/api/v2/jobs/${jobId}/timeline/?format=matrix`;
  const headers = { Accept: 'application/json' };
  if (etag) headers['If-None-Match'] = etag;
  // no-store: the page keeps the last answer itself, and a 304 must reach it as a 304
  const response = await fetch(url, { headers, credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 304) return null;
  if (response.status === 401) toLogin();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return { body: await response.json(), etag: response.headers.get('ETag') };
}

/** The seconds a host has spent on a task: its duration, or while running its elapsed time. */
export function hostSeconds(h, nowMs = Date.now()) {
  if (h.status === 'running') {
    if (Number.isFinite(h.elapsed)) return h.elapsed;
    return Number.isFinite(h.start) ? (nowMs - h.start) / 1000 : NaN;
  }
  if (Number.isFinite(h.duration)) return h.duration;
  return Number.isFinite(h.start) && Number.isFinite(h.end) ? (h.end - h.start) / 1000 : NaN;
}

/**
 * Hosts taking far longer than their peers on a task, as the server flags them (its rule is in the timeline's
 * `slow_rule`: one rule for the API and the page).
 */
export function slowHosts(task) {
  const slow = new Set();
  for (const h of task.hosts.values()) if (h.slow) slow.add(h.name);
  return slow;
}

/** The first line of a host's result in a task (1-based, for a #L link), or null. */
export async function resultLine(jobId, task, host) {
  const params = {
    host_name: host, not__stdout: '', order_by: '-counter', limit: 1,
    event__in: 'runner_on_ok,runner_on_failed,runner_on_skipped,runner_on_unreachable,runner_item_on_ok,'
      + 'runner_item_on_failed,runner_item_on_skipped,runner_on_async_failed,runner_on_async_ok',
  };
  if (task.uuid) params.parent_uuid = task.uuid;
  else params.task = task.task;
  const hit = resultsOf(await getJson(`/api/v2/jobs/${jobId}/job_events/?${new URLSearchParams(params)}`))[0];
  return hit && Number.isInteger(hit.start_line) ? hit.start_line + 1 : null;
}

/** Opens the job's output at a host's result in a task (falls back to the output's top when it has no lines). */
export async function openResult(jobId, task, host) {
  const line = await resultLine(jobId, task, host);
  location.assign(`/jobs/${jobId}${line ? '#L' + line : ''}`);
}

/**
 * Calls `load()` now and again until `done()` holds after a load; the pause is at least `minMs` and four times the
 * last load's duration, so a job of a million results is not asked for every two seconds.
 */
export class Poller {
  constructor(load, done, { minMs = 2000, onError = () => {} } = {}) {
    Object.assign(this, { load, done, minMs, onError, timer: null, stopped: false });
  }

  async run() {
    clearTimeout(this.timer);
    const began = performance.now();
    try {
      await this.load();
    } catch (e) {
      this.onError(e);
      // a job that is not there, or not ours to see, will not be there in two seconds either
      if (/HTTP 4\d\d/.test(String(e && e.message))) return;
    }
    if (this.stopped || this.done()) return;
    const pause = Math.max(this.minMs, 4 * (performance.now() - began));
    this.timer = setTimeout(() => this.run(), pause);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/** Whether a job has ended and every event of it is stored: nothing will change any more. */
export function settled(job) {
  return !!job && FINAL_STATUSES.has(job.status) && !!job.event_processing_finished;
}

export async function readJob(id) {
  return getJson(`/api/v2/jobs/${id}/`);
}

/** Fills the page's header for job `id` (name, status) and wires the keys every analysis page shares. */
export function setUpPage(id, view, keys = {}) {
  $('job-id').textContent = String(id);
  $('job-id').href = `/jobs/${id}`;
  for (const a of document.querySelectorAll('.tabs a[data-view]')) {
    a.href = a.dataset.view === 'output' ? `/jobs/${id}` : `/jobs/${id}/${a.dataset.view}`;
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
  }
  $('theme').addEventListener('click', () => { toggleTheme(); themeChanged(); });
  $('help').addEventListener('click', () => { $('help-panel').hidden = !$('help-panel').hidden; });
  const go = (path) => () => location.assign(path);
  const actions = {
    t: () => { toggleTheme(); themeChanged(); },
    '?': () => { $('help-panel').hidden = !$('help-panel').hidden; },
    o: go(`/jobs/${id}`),
    h: go(`/jobs/${id}/hosts`),
    l: go(`/jobs/${id}/timeline`),
    c: go(`/jobs/${id}/compare/`),
    ...keys,
  };
  document.addEventListener('keydown', (e) => {
    const field = e.target.closest && e.target.closest('input, select, textarea');
    if (e.key === 'Escape') {
      if (field) field.blur();
      $('help-panel').hidden = true;
      return;
    }
    if (field || e.ctrlKey || e.metaKey || e.altKey) return;
    const action = actions[e.key];
    if (action && action(e) !== false) e.preventDefault();
  });
}

const themeListeners = [];
export function onThemeChange(listener) {
  themeListeners.push(listener);
}

function themeChanged() {
  for (const l of themeListeners) l();
}

export function showJob(job) {
  $('job-name').textContent = job.name || `Job ${job.id}`;
  document.title = `${job.name || 'Job ' + job.id} · ${document.body.dataset.title || ''} · jobstream`;
  const badge = statusBadge(job.status);
  const old = $('job-status').firstChild;
  if (!old || old.textContent !== badge.textContent) $('job-status').replaceChildren(badge);
}

export function showError(e) {
  const banner = $('error');
  banner.textContent = String((e && e.message) || e);
  banner.hidden = false;
}

export function hideError() {
  $('error').hidden = true;
}

/** "12.3 s", "4m 05s", for durations in seconds. */
export function seconds1(s) {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A status chip: colour and letter, the word in its title (for the tables; the canvases draw the same). */
export function chip(status) {
  const s = statusOf(status);
  const node = el('span', 'chip chip-' + (STATUSES[status] ? status : 'none'), status ? s.letter : '–');
  node.title = status || 'absent';
  return node;
}

/**
 * A virtual list of fixed-height rows for long tables: only the rows in view exist in the DOM. `render(i)` makes
 * row i's element; `refresh()` after the data changed.
 */
export class VirtualRows {
  constructor(scroller, count, render, rowHeight = 22) {
    Object.assign(this, { scroller, count, render, rh: rowHeight, frame: null });
    this.spacer = el('div', 'spacer');
    this.viewport = el('div', 'viewport');
    scroller.replaceChildren(this.spacer, this.viewport);
    scroller.addEventListener('scroll', () => this.refresh());
    this.refresh();
  }

  setCount(count) {
    this.count = count;
    this.refresh();
  }

  refresh() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = null;
    this.spacer.style.height = this.count * this.rh + 'px';
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / this.rh) - 10);
    const last = Math.min(this.count, first + Math.ceil(this.scroller.clientHeight / this.rh) + 20);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(this.render(i));
    this.viewport.replaceChildren(...rows);
    this.viewport.style.transform = `translateY(${first * this.rh}px)`;
  }
}
