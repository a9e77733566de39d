// The job output page (/jobs/<id>): REST backlog + live websocket events, in counter order, with the lag gauge.
import { FINAL_STATUSES, Socket, getJson, nowMs, parseCreated, resultsOf, showConnection, statusBadge } from './common.js';
import { EventSequencer, LineRenderer } from './output.js';
import { LagGauge } from './lag.js';

const PAGE = 500;
const GAP_PATIENCE_MS = 2000;
const SKIP_AFTER_FETCHES = 3;

const jobId = Number((/^\/jobs\/(\d+)/.exec(location.pathname) || [])[1]);
const eventsUrl = `/api/v2/jobs/${jobId}/job_events/`;
const gauge = new LagGauge(document.getElementById('gauge'));
const renderer = new LineRenderer(document.getElementById('output'), { onChange: showCounts });
const sequencer = new EventSequencer((event) => {
  renderer.addEvent(event);
  showCounts();
});
const job = { status: null, finalCounter: null, detail: null };
let loading = false;
let gapFetches = 0;

/** Loads stored events after `after` in pages of 500 until a short page says we reached the end. */
async function loadFrom(after, before) {
  for (;;) {
    let url = `${eventsUrl}?order_by=counter&counter__gt=${after}&limit=${PAGE}&no_truncate=1`;
    if (before !== undefined) url += `&counter__lt=${before}`;
    const events = resultsOf(await getJson(url));
    for (const e of events) sequencer.offer(e);
    if (events.length < PAGE) return;
    // page on from what came back, not from sequencer.next: a hole in the store must not loop us forever
    after = Number(events[events.length - 1].counter);
  }
}

async function catchUp() {
  if (loading) return;
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
  if (loading || !gap || Date.now() - sequencer.gapSince < GAP_PATIENCE_MS) return;
  loading = true;
  const nextBefore = sequencer.next;
  try {
    await loadFrom(gap.after, gap.before);
    gapFetches = sequencer.next === nextBefore ? gapFetches + 1 : 0;
    if (gapFetches >= SKIP_AFTER_FETCHES) {
      const skipped = sequencer.skipMissing();
      if (skipped) renderer.addNotice(`… events ${skipped.after + 1}–${skipped.before - 1} are not in the store; skipped`);
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
    sequencer.offer(m);
  } else if (m.group_name === 'jobs' && Number(m.unified_job_id) === jobId) {
    if (m.status) showStatus(m.status);
    if (Number.isInteger(m.final_counter)) {
      job.finalCounter = m.final_counter;
      sequencer.noteHighest(m.final_counter);
      showCounts();
    }
    if (m.status && FINAL_STATUSES.has(m.status)) refreshDetail();
  }
}

async function refreshDetail() {
  try {
    const detail = await getJson(`/api/v2/jobs/${jobId}/`);
    job.detail = detail;
    document.getElementById('job-name').textContent = detail.name || `Job ${jobId}`;
    document.title = `${detail.name || 'Job ' + jobId} · jobstream`;
    if (detail.status) showStatus(detail.status);
    showCounts();
    hideError();
  } catch (e) {
    showError(e);
  }
}

/** Statuses only move forward: a job detail fetched just before a websocket status change must not undo it. */
const STATUS_RANK = { new: 0, pending: 1, waiting: 2, running: 3 };
function rank(status) {
  return status in STATUS_RANK ? STATUS_RANK[status] : 4;
}

function showStatus(status) {
  if (status === job.status || (job.status && rank(status) < rank(job.status))) return;
  job.status = status;
  document.getElementById('job-status').replaceChildren(statusBadge(status));
}

function showCounts() {
  const shown = sequencer.next - 1;
  const expected = job.finalCounter || (job.detail && job.detail.emitted_events) || null;
  setText('job-events', expected ? `${shown} / ${expected}` : String(shown));
  setText('job-lines', String(renderer.totalLines));
  const finished = job.detail && job.detail.event_processing_finished;
  setText('job-processed', finished ? 'yes' : 'no');
  const notice = document.getElementById('trim-notice');
  if (renderer.trimmedLines > 0) {
    notice.hidden = false;
    setText('trim-count', String(renderer.trimmedLines));
  }
  document.getElementById('jump').hidden = renderer.follow;
}

function setText(id, text) {
  const node = document.getElementById(id);
  if (node.textContent !== text) node.textContent = text;
}

function showError(e) {
  const banner = document.getElementById('error');
  banner.textContent = String(e.message || e);
  banner.hidden = false;
}

function hideError() {
  document.getElementById('error').hidden = true;
}

function start() {
  document.getElementById('job-id').textContent = String(jobId);
  for (const format of ['txt_download', 'ansi_download']) {
    document.getElementById(format).href = `/api/v2/jobs/${jobId}/stdout/?format=${format}`;
  }
  document.getElementById('jump').addEventListener('click', () => renderer.scrollToEnd());
  document.getElementById('output').addEventListener('scroll', () => {
    document.getElementById('jump').hidden = renderer.follow;
  });
  // the socket opens before the backlog loads, so nothing emitted in between is missed; early live events wait
  // in the sequencer until the backlog reaches them
  new Socket({
    groups: { jobs: ['status_changed', 'summary'], job_events: [jobId] },
    resume: () => ({ [jobId]: sequencer.next - 1 }),
    onMessage,
    onState: showConnection,
    onReopen: catchUp,
  }).start();
  refreshDetail();
  catchUp();
  setInterval(checkGap, 500);
  setInterval(() => gauge.draw(nowMs()), 250);
  setInterval(() => {
    const done = job.detail && FINAL_STATUSES.has(job.detail.status) && job.detail.event_processing_finished;
    if (!done) refreshDetail();
  }, 2000);
}

start();
