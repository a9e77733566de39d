// Shared by the pages that explain a run (host x task matrix, timeline, compare): the page chrome and keys, the SPEC
// §11 shapes read into plain objects, status colours and letters, polling that slows down for big jobs, and a
// virtual list of fixed-height rows for long tables.
import { FINAL_STATUSES, el, getJson, parseCreated, resultsOf, statusBadge, toggleTheme } from './common.js';

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

/**
 * One host's result in a task, from the timeline's per-host entry. Times are parsed when first asked for: a
 * 1,000 x 200 job has 200,000 entries, and the matrix needs the times of only the cells a reader points at.
 */
class HostResult {
  constructor(name, h) {
    this.name = name;
    // a failure with ignore_errors shows as "ignored" (Ansible's recap counts it apart); compare keeps the raw status
    this.status = h.status === 'failed' && h.ignored ? 'ignored' : h.status || '';
    this.duration = seconds(h.duration);
    this.elapsed = seconds(h.elapsed);
    this.counter = Number.isInteger(h.counter) ? h.counter : null;
    this.slow = !!h.slow;
    this.raw = h;
    this.times = null;
  }

  parse() {
    if (this.times === null) this.times = { start: parseCreated(this.raw.start), end: parseCreated(this.raw.end) };
    return this.times;
  }

  get start() {
    return this.parse().start;
  }

  get end() {
    return this.parse().end;
  }
}

function hostEntry(name, h) {
  return new HostResult(name, h);
}

/**
 * The timeline (SPEC §11: tasks in order with uuid, play, task, start, end, duration, and per host status, start,
 * end; running hosts with their elapsed time) as {tasks, hosts}: hosts in the order they first appear.
 */
export function readTimeline(body) {
  const list = Array.isArray(body) ? body : Array.isArray(body && body.tasks) ? body.tasks : resultsOf(body);
  const hostIndex = new Map();
  const tasks = list.map((t, i) => {
    const entries = [];
    if (Array.isArray(t.hosts)) for (const h of t.hosts) entries.push(hostEntry(String(h.host_name || h.host || h.name || ''), h));
    else if (t.hosts && typeof t.hosts === 'object') for (const [name, h] of Object.entries(t.hosts)) entries.push(hostEntry(name, h || {}));
    const hosts = new Map();
    let status = '';
    for (const h of entries) {
      if (!hostIndex.has(h.name)) hostIndex.set(h.name, hostIndex.size);
      hosts.set(h.name, h);
      status = worse(status, h.status);
    }
    const start = parseCreated(t.start);
    const end = parseCreated(t.end);
    let duration = seconds(t.duration);
    if (!Number.isFinite(duration) && Number.isFinite(start) && Number.isFinite(end)) duration = (end - start) / 1000;
    return {
      index: i, uuid: t.uuid || '', play: t.play || '', task: t.task || t.name || '', start, end, duration,
      hosts, status, running: t.running === true || [...hosts.values()].some((h) => h.status === 'running'),
    };
  });
  return { tasks, hosts: [...hostIndex.keys()] };
}

const MAX_TIMELINE_PAGES = 500;

/** Every task of the timeline with its hosts: the API pages by task (at most 200 a page). */
export async function fetchTimeline(jobId) {
  const tasks = [];
  let url = `/api/v2/jobs/${jobId}/timeline/?page_size=200`;
  for (let i = 0; url && i < MAX_TIMELINE_PAGES; i++) {
    const body = await getJson(url);
    tasks.push(...(Array.isArray(body.tasks) ? body.tasks : []));
    url = typeof body.next === 'string' && body.next.startsWith('/') ? body.next : null;
  }
  return tasks;
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
