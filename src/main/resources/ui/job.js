// The job output page (/jobs/<id>). The stored past is read by line range as the reader scrolls (never the whole
// job at once); live events come over the websocket, in counter order, without holes or duplicates: the socket
// subscribes before the page reads where the store ends, live events up to that counter are dropped as
// duplicates, a lasting gap is filled by REST, and a reconnect asks the server to resume from the last counter.
// When the websocket cannot connect at all, the page follows the job over server-sent events instead.
import {
  FINAL_STATUSES, Socket, el, formatDuration, getJson, jobSeconds, nowMs, parseCreated, resultsOf, showConnection,
  statusBadge, toggleTheme,
} from './common.js';
import { EventSequencer, FilteredLines, LineStore, PAGE, Viewer, eventLines, plainText } from './output.js';
import { LagGauge } from './lag.js';
import { LineLinks } from './links.js';
import { MODES, saveMode, savedMode, stampFor } from './stamps.js';
import { Downloads } from './downloads.js';
import { Recap } from './recap.js';

const GAP_PATIENCE_MS = 2000;
const SKIP_AFTER_FETCHES = 3;
const FIRST_OPEN_WAIT_MS = 3000;

const jobId = Number((/^\/jobs\/(\d+)/.exec(location.pathname) || [])[1]);
const eventsUrl = `/api/v2/jobs/${jobId}/job_events/`;
const $ = (id) => document.getElementById(id);
const gauge = new LagGauge($('gauge'), `/api/v2/jobs/${jobId}/diagnosis/?window=30s`);
const job = { status: null, finalCounter: null, detail: null };
const timings = { start: performance.now(), firstLines: null, interactive: null };
let ready = false;          // the stored end is known and the sequencer starts after it
const early = [];           // live events that arrived before that
let loading = false;
let gapFetches = 0;
let filtered = null;        // FilteredLines while a filter is on
let socket = null;
let stream = null;          // EventSource, when the websocket could not connect
let fallbackReason = null;  // why the page follows the job over server-sent events instead

const store = new LineStore(fetchRange, { onLoaded: () => viewer.refresh(), onError: showError });
const viewer = new Viewer($('output'), store, {
  onFollow: (follow) => { $('jump').hidden = follow; },
  onFold: toggleFold,
  onDraw: drawn,
  onLine: (n) => links.select(n),
  onCopy: (n) => links.copy(n),
});
const links = new LineLinks(viewer, store, $('link-note'), showAll);
const recap = new Recap(jobId, $('recap'), showError);
let downloads = null;
const sequencer = new EventSequencer((event) => {
  store.put(event);
  if (filtered) filtered.live(event);
  links.check();
  viewer.refresh();
});

/** Query URL of the job's events; values go through URLSearchParams, so a search term cannot break the query. */
function query(params) {
  return `${eventsUrl}?${new URLSearchParams(params)}`;
}

/** Events with lines in [from, to), in counter order (several pages when many short events share the range). */
async function fetchRange(from, to) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = resultsOf(await getJson(query({
      end_line__gt: from, start_line__lt: to, not__stdout: '', counter__gt: after, order_by: 'counter', limit: PAGE,
      no_truncate: 1,
    })));
    events.push(...page);
    if (page.length < PAGE) return events;
    after = Number(page[page.length - 1].counter);
  }
}

/** Feeds stored events after `after` (and before `before`) to the sequencer, a page at a time. */
async function loadFrom(after, before) {
  for (;;) {
    const params = { order_by: 'counter', counter__gt: after, limit: PAGE, no_truncate: 1 };
    if (before !== undefined) params.counter__lt = before;
    const events = resultsOf(await getJson(query(params)));
    for (const e of events) sequencer.offer(e);
    if (events.length < PAGE) return;
    // page on from what came back, not from sequencer.next: a hole in the store must not loop us forever
    after = Number(events[events.length - 1].counter);
  }
}

async function catchUp() {
  if (loading || !ready) return;
  loading = true;
  try {
    await loadFrom(sequencer.next - 1);
  } catch (e) {
    showError(e);
  } finally {
    loading = false;
  }
}

/** A gap that outlives GAP_PATIENCE_MS is fetched by REST; one the store cannot fill is skipped, visibly. */
async function checkGap() {
  const gap = sequencer.missing();
  if (!ready || loading || !gap || Date.now() - sequencer.gapSince < GAP_PATIENCE_MS) return;
  loading = true;
  const nextBefore = sequencer.next;
  try {
    await loadFrom(gap.after, gap.before);
    gapFetches = sequencer.next === nextBefore ? gapFetches + 1 : 0;
    if (gapFetches >= SKIP_AFTER_FETCHES) {
      const skipped = sequencer.skipMissing();
      if (skipped) showError(`events ${skipped.after + 1}–${skipped.before - 1} are not in the store; skipped`);
      gapFetches = 0;
    }
  } catch (e) {
    showError(e);
  } finally {
    loading = false;
    sequencer.gapSince = sequencer.hasGap() ? Date.now() : null;
  }
}

function onMessage(m) {
  if (m.group_name === 'job_events' && (m.job === undefined || Number(m.job) === jobId)) {
    const now = nowMs();
    const created = parseCreated(m.created);
    if (Number.isFinite(created)) gauge.record(now - created, now);
    if (ready) sequencer.offer(m);
    else early.push(m);
  } else if (m.group_name === 'jobs' && Number(m.unified_job_id) === jobId) {
    if (m.status) showStatus(m.status);
    if (Number.isInteger(m.final_counter)) {
      job.finalCounter = m.final_counter;
      if (ready) sequencer.noteHighest(m.final_counter);
    }
    if (m.status && FINAL_STATUSES.has(m.status)) refreshDetail();
  }
}

/** The capture level (SPEC §10) as a small badge, only when it keeps less than everything. */
function showCapture(detail) {
  const badge = $('job-capture');
  if (!badge) return;
  const level = detail.capture || 'full';
  badge.hidden = level === 'full';
  if (badge.hidden) return;
  const dropped = detail.capture_dropped || {};
  badge.textContent = `capture: ${level}`;
  badge.title = `this job keeps less than its full output: ${dropped.events || 0} events lost`
    + ` ${level === 'summary' ? 'their output and data' : 'their result data'} (${dropped.bytes || 0} bytes)`;
}

async function refreshDetail() {
  try {
    const detail = await getJson(`/api/v2/jobs/${jobId}/`);
    job.detail = detail;
    $('job-name').textContent = detail.name || `Job ${jobId}`;
    document.title = `${detail.name || 'Job ' + jobId} · jobstream`;
    if (detail.status) showStatus(detail.status);
    if (Number.isInteger(detail.final_counter)) {
      job.finalCounter = detail.final_counter;
      if (ready) sequencer.noteHighest(detail.final_counter);
    }
    showHostCounts(detail.host_status_counts);
    recap.refresh();
    showCapture(detail);
    showExpired(detail);
    hideError();
  } catch (e) {
    showError(e);
  }
}

/** Retention deleted this job's events (SPEC §10): say so where the output would be, instead of an empty page. */
function showExpired(detail) {
  if (!detail.events_expired || $('events-expired')) return;
  const n = Number(detail.stored_events || detail.emitted_events || 0).toLocaleString('en-US');
  const notice = el('div', 'banner', `The output of this job was deleted by retention (events_expired): its ${n}`
    + ' events and stdout are gone; its status, counts and host summary stay.');
  notice.id = 'events-expired';
  notice.setAttribute('role', 'status');
  $('output').before(notice);
}

/** Statuses only move forward: a job detail fetched just before a websocket status change must not undo it. */
const STATUS_RANK = { new: 0, pending: 1, waiting: 2, running: 3 };
function rank(status) {
  return status in STATUS_RANK ? STATUS_RANK[status] : 4;
}

function showStatus(status) {
  if (status === job.status || (job.status && rank(status) < rank(job.status))) return;
  job.status = status;
  $('job-status').replaceChildren(statusBadge(status));
}

/** AWX's host_status_counts: {ok: n, changed: n, failures: n, dark: n, skipped: n, …} (hosts per outcome). */
function showHostCounts(counts) {
  const list = $('host-counts');
  if (!counts || typeof counts !== 'object') {
    list.replaceChildren();
    return;
  }
  const items = [];
  for (const [key, value] of Object.entries(counts)) {
    const n = typeof value === 'number' ? value : value && typeof value === 'object' ? Object.keys(value).length : NaN;
    if (!Number.isFinite(n)) continue;
    items.push(el('dt', 'host-' + key.replace(/[^a-z_]/gi, ''), key), el('dd', null, String(n)));
  }
  list.replaceChildren(...items);
}

function showCounts() {
  const shown = ready ? sequencer.next - 1 : 0;
  const expected = job.finalCounter || (job.detail && job.detail.emitted_events) || null;
  const n = (v) => v.toLocaleString('en-US');
  setText('job-events', expected ? `${n(shown)} / ${n(expected)}` : n(shown));
  setText('job-lines', store.total.toLocaleString('en-US'));
  setText('job-processed', job.detail && job.detail.event_processing_finished ? 'yes' : 'no');
  setText('job-elapsed', job.detail ? formatDuration(jobSeconds(job.detail)) : '—');
  setText('gauge-dups', String(sequencer.duplicates));
}

function setText(id, text) {
  const node = $(id);
  if (node && node.textContent !== text) node.textContent = text;
}

function showError(e) {
  const banner = $('error');
  banner.textContent = String((e && e.message) || e);
  banner.hidden = false;
}

function hideError() {
  $('error').hidden = true;
}

function drawn(placeholders) {
  if (!ready) return;
  const rowsShown = viewer.rows() > 0;
  if (timings.firstLines === null && rowsShown && placeholders < viewer.domLines()) timings.firstLines = performance.now();
  if (timings.interactive === null && placeholders === 0) {
    timings.interactive = performance.now();
    if (timings.firstLines === null) timings.firstLines = timings.interactive;
    document.body.dataset.ready = 'true';
  }
}

// ---- collapse by play and task ----

const PLAY_END = 'playbook_on_play_start,playbook_on_stats';
const TASK_END = 'playbook_on_play_start,playbook_on_task_start,playbook_on_handler_task_start,playbook_on_stats';

/** Hides the lines after a play or task header up to the next section's start (asked of the store). */
async function toggleFold(line) {
  if (viewer.isFolded(line)) {
    viewer.unfold(line);
    return;
  }
  const record = store.get(line);
  if (!record) return;
  try {
    const names = record.meta.event === 'playbook_on_play_start' ? PLAY_END : TASK_END;
    const next = resultsOf(await getJson(query({
      event__in: names, counter__gt: record.meta.counter, order_by: 'counter', limit: 1,
    })))[0];
    viewer.fold(line, line + 1, next && Number.isInteger(next.start_line) ? next.start_line : null);
  } catch (e) {
    showError(e);
  }
}

// ---- filters ----

function filterParams() {
  const p = {};
  const host = $('filter-host').value.trim();
  const task = $('filter-task').value.trim();
  const only = $('filter-status').value;
  if (host) p.host_name__icontains = host;
  if (task) p.task__icontains = task;
  if (only === 'failed') p.failed = 'true';
  if (only === 'changed') p.changed = 'true';
  return p;
}

function matcher(p) {
  const has = (value, part) => String(value || '').toLowerCase().includes(part.toLowerCase());
  return (e) => (!p.host_name__icontains || has(e.host_name, p.host_name__icontains))
    && (!p.task__icontains || has(e.task, p.task__icontains))
    && (!p.failed || !!e.failed) && (!p.changed || !!e.changed);
}

let filterKey = JSON.stringify({}); // no filter at first
async function applyFilters() {
  const p = filterParams();
  const key = JSON.stringify(p);
  if (key === filterKey) return;
  filterKey = key;
  if (downloads) downloads.update();
  if (Object.keys(p).length === 0) {
    filtered = null;
    $('filter-count').textContent = '';
    document.body.classList.remove('filtered');
    viewer.setSource(store);
    return;
  }
  document.body.classList.add('filtered');
  filtered = new FilteredLines(
    async (after) => resultsOf(await getJson(query({
      ...p, not__stdout: '', counter__gt: after, order_by: 'counter', limit: PAGE, no_truncate: 1,
    }))),
    matcher(p),
    { onLoaded: () => viewer.refresh(), onError: showError });
  filtered.folds = false;
  viewer.setSource(filtered);
  try {
    const body = await getJson(query({ ...p, not__stdout: '', page_size: 1 }));
    if (filterKey === key) $('filter-count').textContent = `${Number(body.count).toLocaleString('en-US')} events`;
  } catch (e) {
    showError(e);
  }
}

/** A line link addresses the whole output: the filters go, the view shows every line. */
function showAll() {
  clearTimeout(filterTimer);
  $('filter-host').value = '';
  $('filter-task').value = '';
  $('filter-status').value = '';
  applyFilters();
}

// ---- per-line timestamps ----

function jobStartMs() {
  const d = job.detail;
  return d ? parseCreated(d.started || d.created) : NaN;
}

function setTimestamps(mode) {
  $('timestamps').value = mode;
  saveMode(mode);
  document.body.dataset.timestamps = mode;
  viewer.setStamp(stampFor(mode, jobStartMs));
}

let filterTimer = null;
function filtersChanged() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(applyFilters, 300);
}

/** Moves to an event's first line (or `offset` lines into it), in the view now shown. */
async function goToEvent(event, offset) {
  let line;
  if (filtered) {
    const at = await filtered.locate(Number(event.counter));
    if (at === null) return false;
    line = at + offset;
  } else {
    line = event.start_line + offset;
  }
  viewer.setHighlight(search.term, line);
  viewer.scrollToLine(line, 'center');
  return true;
}

// ---- search (server side: the job_events `search` filter) ----

const search = { term: '', counter: null, count: null };

/** The job line at the top of the view (in a filtered view, row numbers are not line numbers). */
function currentLine() {
  const record = viewer.source.get(viewer.topLine());
  return record ? record.n : 0;
}

async function find(direction) {
  const term = $('search').value.trim();
  if (!term) {
    clearSearch();
    return;
  }
  if (term !== search.term) {
    Object.assign(search, { term, counter: null, count: null });
    countMatches(term);
  }
  const base = { ...filterParams(), search: term, limit: 1, no_truncate: 1, order_by: direction > 0 ? 'counter' : '-counter' };
  const from = search.counter !== null
    ? (direction > 0 ? { counter__gt: search.counter } : { counter__lt: search.counter })
    : (direction > 0 ? { end_line__gt: currentLine() } : { start_line__lt: currentLine() + 1 });
  try {
    let hit = resultsOf(await getJson(query({ ...base, ...from })))[0];
    if (!hit) hit = resultsOf(await getJson(query(base)))[0]; // wrap around
    if (!hit) {
      $('search-count').textContent = 'no matches';
      viewer.setHighlight(term);
      return;
    }
    search.counter = Number(hit.counter);
    const lower = term.toLowerCase();
    const offset = Math.max(0, eventLines(hit).lines.findIndex((l) => plainText(l).toLowerCase().includes(lower)));
    await goToEvent(hit, offset);
    const before = await getJson(query({ ...filterParams(), search: term, counter__lt: hit.counter, page_size: 1 }));
    if (search.term === term) search.index = Number(before.count) + 1;
    showSearchCount();
  } catch (e) {
    showError(e);
  }
}

async function countMatches(term) {
  try {
    const body = await getJson(query({ ...filterParams(), search: term, page_size: 1 }));
    if (search.term === term) {
      search.count = Number(body.count);
      showSearchCount();
    }
  } catch (e) {
    showError(e);
  }
}

function showSearchCount() {
  if (!search.term) return;
  const total = search.count === null ? '…' : search.count.toLocaleString('en-US');
  const index = search.index ? search.index.toLocaleString('en-US') : '–';
  $('search-count').textContent = `${index} / ${total} events`;
}

function clearSearch() {
  Object.assign(search, { term: '', counter: null, count: null, index: null });
  $('search-count').textContent = '';
  viewer.setHighlight('');
}

async function firstFailure() {
  try {
    const hit = resultsOf(await getJson(query({
      ...filterParams(), failed: 'true', not__stdout: '', order_by: 'counter', limit: 1, no_truncate: 1,
    })))[0];
    if (!hit) {
      $('search-count').textContent = 'no failures';
      return;
    }
    await goToEvent(hit, 0);
  } catch (e) {
    showError(e);
  }
}

// ---- keyboard ----

function onKey(e) {
  const field = e.target.closest && e.target.closest('input, select, textarea');
  if (e.key === 'Escape') {
    if (field) field.blur();
    if (e.target === $('search')) {
      $('search').value = '';
      clearSearch();
    }
    $('help-panel').hidden = true;
    return;
  }
  if (field || e.ctrlKey || e.metaKey || e.altKey) return;
  const actions = {
    '/': () => $('search').focus(),
    n: () => find(1),
    N: () => find(-1),
    g: () => viewer.scrollToStart(),
    Home: () => viewer.scrollToStart(),
    G: () => viewer.scrollToEnd(),
    End: () => viewer.scrollToEnd(),
    f: () => (viewer.follow ? viewer.setFollow(false) : viewer.scrollToEnd()),
    e: () => firstFailure(),
    j: () => { $('output').scrollTop += viewer.lh; },
    k: () => { $('output').scrollTop -= viewer.lh; },
    t: () => toggleTheme(),
    s: () => setTimestamps(MODES[(MODES.indexOf($('timestamps').value) + 1) % MODES.length]),
    y: () => links.copy(),
    '[': () => links.step(-1),
    ']': () => links.step(1),
    h: () => location.assign(`/jobs/${jobId}/hosts`),
    l: () => location.assign(`/jobs/${jobId}/timeline`),
    '?': () => { $('help-panel').hidden = !$('help-panel').hidden; },
  };
  const action = actions[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
}

// ---- start ----

/**
 * Resolves once the socket has opened (and subscribed), or when it cannot: closed before it ever opened (a proxy
 * that refuses the upgrade, a network that blocks websockets) or not open within FIRST_OPEN_WAIT_MS. The page then
 * follows the job over server-sent events instead (SPEC §12) and says why; a socket that opened once keeps
 * reconnecting on its own.
 */
function firstOpen() {
  return new Promise((resolve) => {
    const giveUp = (why) => {
      if (fallbackReason || (socket && socket.opens > 0)) return;
      fallbackReason = why;
      clearTimeout(timer);
      socket.stop();
      showConnection('connecting', `${why}; switching to server-sent events`);
      resolve();
    };
    const timer = setTimeout(() => giveUp(`websocket not open after ${FIRST_OPEN_WAIT_MS / 1000} s`),
      FIRST_OPEN_WAIT_MS);
    socket = new Socket({
      groups: { jobs: ['status_changed', 'summary'], job_events: [jobId] },
      resume: () => (ready ? { [jobId]: sequencer.next - 1 } : null),
      onMessage,
      onState: (state, detail) => {
        if (fallbackReason) return; // the event stream owns the connection display now
        if (state === 'closed' && socket.opens === 0) {
          giveUp(`websocket could not connect (${detail.replace(/, reconnecting.*$/, '')})`);
          return;
        }
        showConnection(state, detail);
        setText('gauge-conn', state);
        setText('gauge-resumes', String(socket ? socket.resumes : 0));
        if (state === 'open') {
          clearTimeout(timer);
          resolve();
        }
      },
      onReopen: catchUp,
    });
    socket.start();
  });
}

/**
 * Follows the job over server-sent events from the sequencer's position: the server replays what the store has
 * after it, then goes live, each event once and in counter order (the same rules as the websocket's resume).
 * EventSource reconnects by itself, sending the last id it got as Last-Event-ID; the stream ends (`end`) once the
 * final counter has been sent.
 */
function followStream(why) {
  const label = `server-sent events (${why})`;
  const url = `/api/v2/jobs/${jobId}/events/stream/?last_event_id=${Math.max(0, sequencer.next - 1)}`;
  const show = (state, detail) => {
    showConnection(state, detail ? `${label} · ${detail}` : label);
    setText('gauge-conn', `${state} (SSE)`);
  };
  const parsed = (e) => {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      console.warn('event stream: not JSON', err);
      return null;
    }
  };
  let reconnects = 0;
  let opened = false;
  stream = new EventSource(url);
  show('connecting');
  stream.onopen = () => {
    if (opened) reconnects++;
    opened = true;
    setText('gauge-resumes', String(reconnects));
    show('open', reconnects ? `resumed ${reconnects}×` : '');
  };
  stream.onmessage = (e) => {
    const m = parsed(e);
    if (m) onMessage(m);
  };
  stream.addEventListener('status_changed', (e) => {
    const m = parsed(e);
    if (m) onMessage(m);
  });
  stream.addEventListener('end', (e) => {
    const m = parsed(e);
    if (m) onMessage(m);
    stream.close(); // done: EventSource would otherwise reconnect to a stream that ends at once
    show('closed', 'job output complete');
  });
  stream.addEventListener('close', (e) => {
    const m = parsed(e);
    show('connecting', `server closed the stream (${m ? m.reason : '?'}), resuming`);
  });
  stream.onerror = () => {
    if (stream.readyState === EventSource.CLOSED) show('closed', 'the server refused the stream');
    else show('connecting', 'reconnecting');
  };
}

async function start() {
  $('job-id').textContent = String(jobId);
  downloads = new Downloads(jobId, { txt_download: $('txt_download'), ansi_download: $('ansi_download') },
    $('download-timestamps'), $('download-note'), filterParams, showError);
  $('to-hosts').href = `/jobs/${jobId}/hosts`;
  $('to-timeline').href = `/jobs/${jobId}/timeline`;
  $('to-compare').href = `/jobs/${jobId}/compare/`;
  setTimestamps(savedMode());
  $('timestamps').addEventListener('change', () => setTimestamps($('timestamps').value));
  window.addEventListener('hashchange', () => links.follow());
  $('jump').addEventListener('click', () => viewer.scrollToEnd());
  $('to-end').addEventListener('click', () => viewer.scrollToEnd());
  $('to-start').addEventListener('click', () => viewer.scrollToStart());
  $('first-failure').addEventListener('click', firstFailure);
  $('theme').addEventListener('click', toggleTheme);
  $('help').addEventListener('click', () => { $('help-panel').hidden = !$('help-panel').hidden; });
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    find(1);
  });
  $('search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.shiftKey) {
      e.preventDefault();
      find(-1);
    }
  });
  $('search-prev').addEventListener('click', () => find(-1));
  for (const id of ['filter-host', 'filter-task']) $(id).addEventListener('input', filtersChanged);
  $('filter-status').addEventListener('change', applyFilters);
  document.addEventListener('keydown', onKey);
  window.jobstream = {
    viewer, store, sequencer, timings, gauge, links,
    get filtered() { return filtered; },
    get transport() { return stream ? 'sse' : 'websocket'; },
  };

  // subscribe first, then read where the store ends: whatever is committed after the read arrives live
  await Promise.all([firstOpen(), refreshDetail()]);
  try {
    // the last event, and the last one with output (whose end_line is the line count: a quiet event after it
    // may carry a smaller one); both walk the (job, counter) key backwards, cheap at any job size
    const [last, lastWithLines] = await Promise.all([
      getJson(query({ order_by: '-counter', limit: 1 })),
      getJson(query({ order_by: '-counter', not__stdout: '', limit: 1 })),
    ].map((p) => p.then((body) => resultsOf(body)[0])));
    if (lastWithLines && Number.isInteger(lastWithLines.end_line)) store.total = lastWithLines.end_line;
    sequencer.startAfter(last ? Number(last.counter) : 0);
  } catch (e) {
    showError(e);
  }
  ready = true;
  if (Number.isInteger(job.finalCounter)) sequencer.noteHighest(job.finalCounter);
  for (const m of early.splice(0)) sequencer.offer(m);
  if (fallbackReason) followStream(fallbackReason);
  // a #L link wins over the default place; it follows the tail meanwhile if its line has not arrived yet
  const linked = links.follow();
  if (linked && links.pending === null) {
    // scrolled to the linked line already
  } else if (!linked && job.status && FINAL_STATUSES.has(job.status)) viewer.scrollToStart();
  else viewer.scrollToEnd();
  viewer.draw();

  setInterval(checkGap, 500);
  setInterval(() => gauge.draw(nowMs()), 250);
  setInterval(showCounts, 250);
  setInterval(() => {
    const done = job.detail && FINAL_STATUSES.has(job.detail.status) && job.detail.event_processing_finished;
    if (!done) refreshDetail();
  }, 2000);
}

start();
