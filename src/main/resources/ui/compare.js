// The compare page (/jobs/<a>/compare/<b>): what differs between this run and an earlier run of the same playbook,
// per task and host (ok / changed / failed / skipped / unreachable), and the tasks and hosts found in one run only.
// Without <b> it offers the earlier runs and opens the latest. Reloaded while either run is still going.
import {
  $, Poller, VirtualRows, chip, hideError, openResult, pathJobs, readJob, setUpPage, settled, showError, showJob,
} from './analysis.js';
import { el, getJson, resultsOf, statusBadge } from './common.js';

const MAX_JOB_PAGES = 10;

const { id: jobId, other: otherId } = pathJobs();
const timings = { start: performance.now(), loaded: null };
const model = { rows: [], shown: [], onlyA: { tasks: [], hosts: [] }, onlyB: { tasks: [], hosts: [] } };
const jobs = { a: null, b: null };
let selected = 0;
let list = null;

const pick = (o, ...keys) => {
  for (const k of keys) if (o && o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};

/** A status from either side: a word, or an object holding one (null: absent from that run). */
function side(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  return pick(value, 'status', 'result') || null;
}

/**
 * The compare answer (SPEC §11: per task and host, the results that differ; tasks or hosts present in one run only)
 * read into rows {task, play, uuid, host, a, b}: `a` is this run's status, `b` the other run's.
 */
export function readCompare(body) {
  const list = pick(body, 'differences', 'results', 'diffs', 'changes') || (Array.isArray(body) ? body : []);
  const rows = list.map((d) => {
    const task = pick(d, 'task') ;
    return {
      task: typeof task === 'object' && task ? task.name || '' : task || '',
      play: pick(d, 'play') || '',
      uuid: pick(d, 'uuid', 'task_uuid') || '',
      host: pick(d, 'host_name', 'host') || '',
      a: side(pick(d, 'a', 'status_a', 'this', 'job', 'left')),
      b: side(pick(d, 'b', 'status_b', 'other', 'right')),
    };
  });
  const only = (which) => {
    const o = pick(body, `only_in_${which}`) || {};
    return {
      tasks: names(pick(o, 'tasks') || pick(body, `tasks_only_in_${which}`) || []),
      hosts: names(pick(o, 'hosts') || pick(body, `hosts_only_in_${which}`) || []),
    };
  };
  return { rows, onlyA: only('a'), onlyB: only('b') };
}

function names(list) {
  return list.map((x) => (typeof x === 'string' ? x : pick(x, 'task', 'name', 'host_name', 'host') || ''));
}

/** Earlier runs of the same playbook, newest first (the job list is newest first; we read a few pages). */
async function earlierRuns(job) {
  const runs = [];
  let url = '/api/v2/jobs/?page_size=200';
  for (let i = 0; url && i < MAX_JOB_PAGES && runs.length < 50; i++) {
    const body = await getJson(url);
    for (const j of resultsOf(body)) if (j.id < job.id && j.playbook && j.playbook === job.playbook) runs.push(j);
    url = body && typeof body.next === 'string' && body.next.startsWith('/') ? body.next : null;
  }
  return runs;
}

async function fillPicker(job) {
  const runs = await earlierRuns(job);
  const select = $('other');
  const options = [el('option', null, runs.length ? 'pick an earlier run…' : 'no earlier run of this playbook')];
  options[0].value = '';
  for (const r of runs) {
    const o = el('option', null, `#${r.id} · ${r.status} · ${r.created || ''}`.replace(/ · $/, ''));
    o.value = String(r.id);
    if (r.id === otherId) o.selected = true;
    options.push(o);
  }
  if (otherId && !runs.some((r) => r.id === otherId)) {
    const o = el('option', null, `#${otherId}`);
    o.value = String(otherId);
    o.selected = true;
    options.push(o);
  }
  select.replaceChildren(...options);
  return runs;
}

function filter() {
  const text = $('diff-filter').value.trim().toLowerCase();
  model.shown = text ? model.rows.filter((r) => (r.task + '\u0000' + r.host + '\u0000' + r.play).toLowerCase().includes(text)) : model.rows;
  selected = Math.min(selected, Math.max(0, model.shown.length - 1));
  list.setCount(model.shown.length);
}

function renderRow(i) {
  const r = model.shown[i];
  const row = el('div', 'diff' + (i === selected ? ' selected' : ''));
  row.setAttribute('role', 'row');
  row.dataset.index = String(i);
  const task = el('span', 'cell task', r.task || '(unnamed)');
  task.title = r.play ? `play: ${r.play}` : '';
  const b = el('span', 'cell');
  b.append(chip(r.b), ' ', r.b || 'absent');
  const a = el('span', 'cell');
  a.append(chip(r.a), ' ', r.a || 'absent');
  row.append(task, el('span', 'cell host', r.host), b, a);
  return row;
}

function showOnly() {
  const items = [];
  const add = (what, list, run) => {
    if (list.length) items.push(el('li', null, `${what} only in #${run}: ${list.slice(0, 20).join(', ')}${list.length > 20 ? `, … (${list.length})` : ''}`));
  };
  add('tasks', model.onlyA.tasks, jobId);
  add('hosts', model.onlyA.hosts, jobId);
  add('tasks', model.onlyB.tasks, otherId);
  add('hosts', model.onlyB.hosts, otherId);
  $('only').replaceChildren(...items);
}

async function load() {
  const [a, b, body] = await Promise.all([readJob(jobId), readJob(otherId), getJson(`/api/v2/jobs/${jobId}/compare/${otherId}/`)]);
  Object.assign(jobs, { a, b });
  showJob(a);
  $('other-status').replaceChildren(statusBadge(b.status));
  Object.assign(model, readCompare(body));
  const n = model.rows.length;
  const onlyCount = model.onlyA.tasks.length + model.onlyA.hosts.length + model.onlyB.tasks.length + model.onlyB.hosts.length;
  $('summary').textContent = n === 0 && onlyCount === 0
    ? `No differences between #${jobId} and #${otherId}.`
    : `${n.toLocaleString('en-US')} results differ between #${jobId} (this run) and #${otherId} (earlier run).`;
  showOnly();
  filter();
  hideError();
  if (timings.loaded === null) {
    timings.loaded = performance.now();
    document.body.dataset.ready = 'true';
  }
}

function move(d) {
  if (!model.shown.length) return;
  selected = Math.max(0, Math.min(model.shown.length - 1, selected + d));
  const scroller = $('diffs');
  const y = selected * list.rh;
  if (y < scroller.scrollTop) scroller.scrollTop = y;
  else if (y + list.rh > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = y + list.rh - scroller.clientHeight;
  list.refresh();
}

async function openSelected(i = selected) {
  const r = model.shown[i];
  if (!r || !r.a) return;
  try {
    await openResult(jobId, { uuid: r.uuid, task: r.task }, r.host);
  } catch (e) {
    showError(e);
  }
}

async function start() {
  setUpPage(jobId, 'compare/', { '/': () => $('diff-filter').focus() });
  list = new VirtualRows($('diffs'), 0, renderRow, 24);
  $('diffs').addEventListener('keydown', (e) => {
    const page = Math.max(1, Math.floor($('diffs').clientHeight / list.rh) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, j: 1, k: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) move(moves[e.key]);
    else if (e.key === 'Enter') openSelected();
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  $('diffs').addEventListener('click', (e) => {
    const row = e.target.closest('.diff');
    if (!row) return;
    selected = Number(row.dataset.index);
    list.refresh();
    openSelected();
  });
  $('diff-filter').addEventListener('input', filter);
  $('other').addEventListener('change', () => {
    const v = $('other').value;
    if (v) location.assign(`/jobs/${jobId}/compare/${v}`);
  });
  window.jobstream = { timings, model };
  try {
    const a = await readJob(jobId);
    showJob(a);
    const runs = await fillPicker(a);
    if (!otherId) {
      // the question is nearly always "what changed since last time": open the latest earlier run
      if (runs.length) location.replace(`/jobs/${jobId}/compare/${runs[0].id}`);
      return;
    }
    $('head-other').textContent = `#${otherId} (earlier run)`;
    $('head-this').textContent = `#${jobId} (this run)`;
  } catch (e) {
    showError(e);
    return;
  }
  new Poller(load, () => settled(jobs.a) && settled(jobs.b), { onError: showError }).run();
}

start();
