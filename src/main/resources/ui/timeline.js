// The timeline (/jobs/<id>/timeline): where the time went. The slowest tasks first (as Ansible's profile_tasks
// prints them), a Gantt chart of every task in order, and for the selected task one bar per host, slowest first,
// with the hosts still running and those far slower than their peers called out (a hung host shows here). Drawn on
// canvases, only the rows in view; reloaded while the job runs.
import {
  $, Poller, fetchMatrix, hideError, hostSeconds, onThemeChange, openResult, pathJobs, readJob, readMatrix, seconds1, setUpPage,
  settled, showError, showJob, slowHosts, statusOf, themeColors, chip,
} from './analysis.js';
import { el, parseCreated } from './common.js';

const RH = 20;      // row height
const LABEL = 320;  // task / host names
const AXIS = 22;    // time ticks
const SLOWEST = 20;

const { id: jobId } = pathJobs();
const timings = { start: performance.now(), fetched: null, loaded: null, interactive: null };
const model = { tasks: [], span: { from: NaN, to: NaN }, selected: -1, hostRows: [], slow: new Set() };
let job = null;
let etag = null; // of the last compact timeline read: polling a job that has not changed gets a 304
let colors = themeColors();

/**
 * A list of rows drawn on a canvas under a transparent scroller (native scrolling, focus and keys); one row is
 * selected. `drawRow(g, i, y, width)` paints row i.
 */
class CanvasRows {
  constructor(scroller, canvas, drawRow, { onSelect = () => {}, onOpen = () => {}, top = AXIS, drawHead = () => {} } = {}) {
    Object.assign(this, { scroller, canvas, drawRow, onSelect, onOpen, top, drawHead, count: 0, selected: -1, frame: null });
    this.spacer = scroller.querySelector('.spacer');
    scroller.addEventListener('scroll', () => this.refresh());
    scroller.addEventListener('keydown', (e) => this.key(e));
    scroller.addEventListener('click', (e) => {
      const i = this.rowAt(e.clientY);
      if (i === null) return;
      this.select(i);
      this.onOpen(i, e);
    });
  }

  rowAt(clientY) {
    const y = clientY - this.scroller.getBoundingClientRect().top - this.top + this.scroller.scrollTop;
    const i = Math.floor(y / RH);
    return y >= 0 && i < this.count ? i : null;
  }

  setCount(count) {
    this.count = count;
    if (this.selected >= count) this.selected = count - 1;
    this.refresh();
  }

  select(i, scroll = true) {
    if (this.count === 0) return;
    this.selected = Math.max(0, Math.min(this.count - 1, i));
    if (scroll) {
      const y = this.selected * RH;
      const view = this.scroller.clientHeight - this.top;
      if (y < this.scroller.scrollTop) this.scroller.scrollTop = y;
      else if (y + RH > this.scroller.scrollTop + view) this.scroller.scrollTop = y + RH - view;
    }
    this.onSelect(this.selected);
    this.refresh();
  }

  key(e) {
    const page = Math.max(1, Math.floor((this.scroller.clientHeight - this.top) / RH) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      const from = this.selected < 0 ? 0 : this.selected;
      const d = moves[e.key];
      this.select(d === -Infinity ? 0 : d === Infinity ? this.count - 1 : this.selected < 0 ? 0 : from + d);
    } else if (e.key === 'Enter' && this.selected >= 0) {
      this.onOpen(this.selected, e);
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  refresh() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = null;
    this.spacer.style.height = this.top + this.count * RH + 'px';
    const dpr = window.devicePixelRatio || 1;
    const w = this.scroller.clientWidth;
    const h = this.scroller.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = w + 'px';
      this.canvas.style.height = h + 'px';
    }
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = colors['--bg'];
    g.fillRect(0, 0, w, h);
    g.font = `12px ${getComputedStyle(document.body).getPropertyValue('--sans') || 'sans-serif'}`;
    g.textBaseline = 'middle';
    const first = Math.floor(this.scroller.scrollTop / RH);
    const last = Math.min(this.count, Math.ceil((this.scroller.scrollTop + h - this.top) / RH));
    g.save();
    g.beginPath();
    g.rect(0, this.top, w, h - this.top);
    g.clip();
    for (let i = first; i < last; i++) {
      const y = this.top + i * RH - this.scroller.scrollTop;
      if (i === this.selected) {
        g.fillStyle = colors['--hit'];
        g.fillRect(0, y, w, RH);
      }
      this.drawRow(g, i, y, w);
    }
    g.restore();
    this.drawHead(g, w);
  }
}

/** The x of a time on a row, for a span [from, to] drawn over the width right of the labels. */
function scaleX(span, w) {
  const width = Math.max(10, w - LABEL - 16);
  const length = Math.max(1, span.to - span.from);
  return (ms) => LABEL + ((ms - span.from) / length) * width;
}

function drawAxis(g, w, span) {
  g.fillStyle = colors['--panel'];
  g.fillRect(0, 0, w, AXIS);
  if (!Number.isFinite(span.from) || !Number.isFinite(span.to)) return;
  const x = scaleX(span, w);
  const total = (span.to - span.from) / 1000;
  const steps = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];
  const step = steps.find((s) => total / s <= 10) || 28800;
  g.fillStyle = colors['--muted'];
  g.textAlign = 'left';
  for (let t = 0; t <= total; t += step) {
    const px = x(span.from + t * 1000);
    g.fillRect(px, AXIS - 5, 1, 5);
    g.fillText('+' + seconds1(t), px + 2, AXIS / 2);
  }
  g.fillText('time since the first task', 6, AXIS / 2);
}

function label(g, text, y, color, max = LABEL - 12) {
  g.fillStyle = color;
  g.textAlign = 'left';
  let t = text;
  if (g.measureText(t).width > max) {
    while (t.length > 1 && g.measureText(t + '…').width > max) t = t.slice(0, Math.max(1, Math.floor(t.length * 0.9)));
    t += '…';
  }
  g.fillText(t, 6, y + RH / 2 + 1);
}

function bar(g, x0, x1, y, status) {
  g.fillStyle = colors[statusOf(status).color];
  g.fillRect(x0, y + 4, Math.max(2, x1 - x0), RH - 8);
}

function taskEnd(t, now) {
  if (t.running) return now;
  if (Number.isFinite(t.end)) return t.end;
  return Number.isFinite(t.start) && Number.isFinite(t.duration) ? t.start + t.duration * 1000 : t.start;
}

const taskRows = new CanvasRows($('tasks'), $('tasks-canvas'), (g, i, y, w) => {
  const t = model.tasks[i];
  const now = Date.now();
  label(g, `${i + 1}. ${t.task || '(unnamed)'}  ${seconds1(taskSeconds(t, now))}`, y,
    t.status === 'failed' || t.status === 'unreachable' ? colors['--bad'] : t.running ? colors['--accent'] : colors['--text']);
  if (!Number.isFinite(t.start)) return;
  const x = scaleX(model.span, w);
  bar(g, x(t.start), x(taskEnd(t, now)), y, t.running ? 'running' : t.status || 'ok');
}, {
  onSelect: (i) => selectTask(i),
  onOpen: (i, e) => { if (e.type === 'keydown') $('task-hosts').focus(); },
  drawHead: (g, w) => drawAxis(g, w, model.span),
});

const hostRows = new CanvasRows($('task-hosts'), $('hosts-canvas'), (g, i, y, w) => {
  const t = model.tasks[model.selected];
  const h = model.hostRows[i];
  if (!t || !h) return;
  const now = Date.now();
  const slow = model.slow.has(h.name);
  const s = hostSeconds(h, now);
  const text = `${h.name}  ${h.status === 'running' ? 'running ' : ''}${seconds1(s)}${slow ? '  ⚠ slow' : ''}`;
  label(g, text, y, slow || h.status === 'failed' || h.status === 'unreachable' ? colors['--bad'] : colors['--text']);
  if (!Number.isFinite(h.start)) return;
  const x = scaleX(hostSpan(t, now), w);
  const end = h.status === 'running' ? now : Number.isFinite(h.end) ? h.end : h.start + (Number.isFinite(s) ? s * 1000 : 0);
  bar(g, x(h.start), x(end), y, h.status);
  g.fillStyle = colors['--bg'];
  g.textAlign = 'left';
  g.fillText(statusOf(h.status).letter, x(h.start) + 3, y + RH / 2 + 1);
}, {
  onOpen: async (i) => {
    const h = model.hostRows[i];
    if (!h || h.status === 'running') return;
    try {
      await openResult(jobId, model.tasks[model.selected], h.name);
    } catch (e) {
      showError(e);
    }
  },
  drawHead: (g, w) => drawAxis(g, w, hostSpan(model.tasks[model.selected], Date.now())),
});

function hostSpan(t, now) {
  if (!t) return { from: NaN, to: NaN };
  let from = Infinity;
  let to = -Infinity;
  for (const h of t.hosts.values()) {
    if (Number.isFinite(h.start)) from = Math.min(from, h.start);
    const end = h.status === 'running' ? now : Number.isFinite(h.end) ? h.end : h.start;
    if (Number.isFinite(end)) to = Math.max(to, end);
  }
  return Number.isFinite(from) ? { from, to: Math.max(to, from + 1) } : { from: NaN, to: NaN };
}

function taskSeconds(t, now) {
  if (t.running && Number.isFinite(t.start)) return (now - t.start) / 1000;
  return t.duration;
}

function selectTask(i) {
  model.selected = i;
  const t = model.tasks[i];
  if (!t) return;
  const now = Date.now();
  model.slow = slowHosts(t);
  model.hostRows = [...t.hosts.values()].sort((a, b) => (hostSeconds(b, now) || 0) - (hostSeconds(a, now) || 0));
  $('task-title').textContent = `— ${i + 1}. ${t.task}${t.play ? ' (play: ' + t.play + ')' : ''}`;
  const running = model.hostRows.filter((h) => h.status === 'running');
  const parts = [];
  if (running.length) parts.push(`${running.length} running now: ` + running.slice(0, 8).map((h) => `${h.name} ${seconds1(hostSeconds(h, now))}`).join(', ') + (running.length > 8 ? ', …' : ''));
  if (model.slow.size) parts.push(`far slower than their peers: ${[...model.slow].slice(0, 8).join(', ')}${model.slow.size > 8 ? ', …' : ''}`);
  $('running-now').textContent = parts.join(' · ');
  $('running-now').classList.toggle('bad', model.slow.size > 0);
  hostRows.setCount(model.hostRows.length);
  const active = [...document.querySelectorAll('#slowest tbody tr')];
  for (const tr of active) tr.classList.toggle('selected', Number(tr.dataset.task) === i);
}

function showSlowest() {
  const now = Date.now();
  const total = model.tasks.reduce((sum, t) => sum + (taskSeconds(t, now) || 0), 0);
  const slowest = [...model.tasks].filter((t) => Number.isFinite(taskSeconds(t, now)))
    .sort((a, b) => taskSeconds(b, now) - taskSeconds(a, now)).slice(0, SLOWEST);
  $('slowest').tBodies[0].replaceChildren(...slowest.map((t, rank) => {
    const tr = el('tr', t.index === model.selected ? 'selected' : null);
    tr.tabIndex = 0;
    tr.dataset.task = String(t.index);
    const s = taskSeconds(t, now);
    tr.append(el('td', null, rank + 1), el('td', null, (t.running ? '≥ ' : '') + seconds1(s)),
      el('td', null, total > 0 ? `${Math.round((100 * s) / total)}%` : ''),
      el('td', 'left', `${t.task}${t.play ? ' — ' + t.play : ''}`), el('td', null, t.hosts.size));
    const result = el('td');
    result.appendChild(chip(t.running ? 'running' : t.status));
    tr.appendChild(result);
    return tr;
  }));
}

function pickFromSlowest(e) {
  const tr = e.target.closest('tr[data-task]');
  if (!tr || (e.type === 'keydown' && e.key !== 'Enter')) return;
  e.preventDefault();
  taskRows.select(Number(tr.dataset.task));
  if (e.type === 'keydown') $('task-hosts').focus();
}

async function load() {
  // the job first: when it says settled, the timeline read after it is final and polling may stop
  const detail = await readJob(jobId);
  const fresh = await fetchMatrix(jobId, etag);
  if (timings.fetched === null) timings.fetched = performance.now();
  job = detail;
  showJob(detail);
  if (fresh) {
    etag = fresh.etag;
    model.tasks = readMatrix(fresh.body).tasks;
  } else if (!model.tasks.some((t) => t.running)) { // 304 and nothing running: nothing to redo
    hideError();
    return;
  } // else 304 while tasks run: the same answer, its span, totals and slowest list moved on with the clock
  const now = Date.now();
  let from = Infinity;
  let to = -Infinity;
  for (const t of model.tasks) {
    if (Number.isFinite(t.start)) from = Math.min(from, t.start);
    const end = taskEnd(t, now);
    if (Number.isFinite(end)) to = Math.max(to, end);
  }
  const finished = parseCreated(detail.finished);
  if (Number.isFinite(finished) && finished > to) to = finished;
  model.span = Number.isFinite(from) ? { from, to: Math.max(to, from + 1) } : { from: NaN, to: NaN };
  const total = Number.isFinite(from) ? (to - from) / 1000 : NaN;
  const running = model.tasks.filter((t) => t.running).length;
  $('summary').textContent = `${model.tasks.length} tasks · ${seconds1(total)}${running ? ` · ${running} running` : ''}`;
  showSlowest();
  taskRows.setCount(model.tasks.length);
  if (model.selected < 0 && model.tasks.length) {
    // the slowest task first: that is the question this page answers
    const first = document.querySelector('#slowest tbody tr');
    taskRows.select(first ? Number(first.dataset.task) : 0);
  } else {
    selectTask(model.selected);
  }
  hideError();
  if (timings.loaded === null) {
    timings.loaded = performance.now();
    requestAnimationFrame(() => {
      timings.interactive = performance.now();
      document.body.dataset.ready = 'true';
    });
  }
}

function start() {
  setUpPage(jobId, 'timeline');
  $('slowest').addEventListener('click', pickFromSlowest);
  $('slowest').addEventListener('keydown', pickFromSlowest);
  window.addEventListener('resize', () => { taskRows.refresh(); hostRows.refresh(); });
  onThemeChange(() => { colors = themeColors(); taskRows.refresh(); hostRows.refresh(); });
  // running hosts' bars grow with the clock between loads
  setInterval(() => { if (!settled(job)) { taskRows.refresh(); hostRows.refresh(); } }, 1000);
  window.jobstream = { timings, model, taskRows, hostRows };
  new Poller(load, () => settled(job), { onError: showError }).run();
}

start();
