// A job's output as a virtual list of lines: events put back in counter order (EventSequencer), lines kept in
// a bounded cache of fixed-size chunks loaded by line range from REST (LineStore), or the lines of the events
// matching a filter (FilteredLines), drawn by a virtual scroller that keeps only the visible rows in the DOM
// (Viewer). Output is always text: every line is built from spans whose text is set with textContent.
import { newAnsiState, parseAnsi } from './ansi.js';
import { el } from './common.js';

/** Lines per chunk of the cache, and per range request. */
export const CHUNK = 500;
/** The REST API's largest page (QueryParams.MAX_PAGE_SIZE). */
export const PAGE = 200;

/**
 * Puts events from REST and the websocket into counter order, each counter once. Events that arrive early
 * wait in `pending` until the counters before them are in; `highest` remembers the largest counter known to
 * exist (seen, or announced by a summary's final_counter), so a missing stretch shows up as a gap that the
 * page can fetch by REST. `next` may start past 1: the stored past is read by range, not through here.
 */
export class EventSequencer {
  constructor(deliver, maxPending = 10000) {
    this.deliver = deliver;
    this.maxPending = maxPending;
    this.next = 1;
    this.pending = new Map();
    this.highest = 0;
    this.gapSince = null;
    this.duplicates = 0;
  }

  /** Starts after `counter`: everything up to it is known to be stored. */
  startAfter(counter) {
    this.next = counter + 1;
    for (const c of [...this.pending.keys()]) if (c < this.next) this.pending.delete(c);
    if (this.highest < counter) this.highest = counter;
    this.drain(Date.now());
  }

  /** Takes one event; returns false for a duplicate or an event without a counter. */
  offer(event, nowMs = Date.now()) {
    const counter = Number(event && event.counter);
    if (!Number.isInteger(counter) || counter < 1) return false;
    if (counter < this.next || this.pending.has(counter)) {
      this.duplicates++;
      return false;
    }
    this.noteHighest(counter, nowMs);
    this.pending.set(counter, event);
    this.drain(nowMs);
    if (this.pending.size > this.maxPending) this.dropFurthest();
    return true;
  }

  noteHighest(counter, nowMs = Date.now()) {
    if (counter > this.highest) this.highest = counter;
    this.updateGap(nowMs);
  }

  drain(nowMs) {
    const before = this.next;
    while (this.pending.has(this.next)) {
      const event = this.pending.get(this.next);
      this.pending.delete(this.next);
      this.next++;
      this.deliver(event);
    }
    if (this.next !== before) this.gapSince = null; // progress: any remaining gap starts counting again
    this.updateGap(nowMs);
  }

  /** Memory stays bounded when far-ahead events pile up; they are still counted in `highest` and refetched. */
  dropFurthest() {
    const counters = [...this.pending.keys()].sort((a, b) => a - b);
    for (const c of counters.slice(this.maxPending)) this.pending.delete(c);
  }

  updateGap(nowMs) {
    if (!this.hasGap()) this.gapSince = null;
    else if (this.gapSince === null) this.gapSince = nowMs;
  }

  hasGap() {
    return this.highest >= this.next;
  }

  /** The missing stretch as REST bounds: counters c with after < c < before. */
  missing() {
    if (!this.hasGap()) return null;
    let before = this.highest + 1;
    for (const c of this.pending.keys()) if (c < before) before = c;
    return { after: this.next - 1, before };
  }

  /** Gives up on counters the store does not have (a rejected event): jumps to the first pending one. */
  skipMissing(nowMs = Date.now()) {
    const gap = this.missing();
    if (!gap || this.pending.size === 0) return null;
    this.next = gap.before;
    this.gapSince = null;
    this.drain(nowMs);
    return gap;
  }
}

/**
 * The lines of one event: its stdout split at line ends, each styled by ANSI with the state carried from the
 * line before (Ansible colours a multi-line result with one sequence at its start). `end_line - start_line` is
 * the number of lines, as AWX counts them.
 * @returns {{start: number|null, lines: Array<{segs, meta, n}>}}
 */
export function eventLines(event) {
  const stdout = typeof event.stdout === 'string' ? event.stdout : '';
  const parts = stdout === '' ? [] : stdout.split(/\r\n|\n/);
  const start = Number.isInteger(event.start_line) ? event.start_line : null;
  const count = start !== null && Number.isInteger(event.end_line) ? Math.max(0, event.end_line - start) : parts.length;
  const meta = {
    counter: Number(event.counter), event: event.event || '', failed: !!event.failed, changed: !!event.changed,
    host: event.host_name || '', task: event.task || '', play: event.play || '', created: event.created || '',
  };
  const state = newAnsiState();
  const lines = [];
  for (let i = 0; i < count; i++) {
    lines.push({ segs: parseAnsi(parts[i] === undefined ? '' : parts[i], state), meta, n: start === null ? null : start + i });
  }
  return { start, lines };
}

/** The plain text of a line record. */
export function plainText(line) {
  let s = '';
  for (const seg of line.segs) s += seg.text;
  return s;
}

const GAP_META = { counter: 0, event: '', failed: false, changed: false, host: '', task: '', play: '', created: '' };

/**
 * Every line of the job, addressed by line number (0-based, as start_line), held in chunks of CHUNK lines.
 * Chunks are loaded from REST as the viewer asks for them (`ensure`) and evicted least-recently-used beyond
 * `maxChunks`, so memory stays bounded for any job size; live events are placed by their start_line.
 */
export class LineStore {
  /**
   * @param fetchRange async (from, to) => events overlapping lines [from, to)
   * @param onLoaded   called after a chunk arrived (the viewer redraws)
   */
  constructor(fetchRange, { maxChunks = 400, onLoaded = () => {}, onError = () => {} } = {}) {
    this.fetchRange = fetchRange;
    this.maxChunks = maxChunks;
    this.onLoaded = onLoaded;
    this.onError = onError;
    this.chunks = new Map(); // chunk index -> {lines: Array(CHUNK), complete: boolean, loading: boolean, used}
    this.total = 0;
    this.tick = 0;
    this.requests = 0;
  }

  get(i) {
    const chunk = this.chunks.get(Math.floor(i / CHUNK));
    if (!chunk) return undefined;
    chunk.used = this.tick;
    return chunk.lines[i % CHUNK];
  }

  chunk(ci) {
    let chunk = this.chunks.get(ci);
    if (!chunk) {
      chunk = { lines: new Array(CHUNK), complete: false, loading: false, used: this.tick };
      this.chunks.set(ci, chunk);
    }
    return chunk;
  }

  /** Places an event's lines; returns how many lines it has. The total grows to its end_line. */
  put(event) {
    const { start, lines } = eventLines(event);
    const from = start === null ? this.total : start;
    for (let i = 0; i < lines.length; i++) {
      const n = from + i;
      if (lines[i].n === null) lines[i].n = n;
      this.chunk(Math.floor(n / CHUNK)).lines[n % CHUNK] = lines[i];
    }
    if (from + lines.length > this.total) this.total = from + lines.length;
    return lines.length;
  }

  /** Asks for the lines [from, to): chunks missing or with holes are loaded (one request at a time each). */
  ensure(from, to) {
    this.tick++;
    const last = Math.min(to, this.total);
    for (let ci = Math.floor(from / CHUNK); ci * CHUNK < last; ci++) {
      const chunk = this.chunks.get(ci);
      if (chunk) chunk.used = this.tick;
      if (chunk && (chunk.loading || this.filled(chunk, ci))) continue;
      this.load(ci);
    }
    this.evict();
  }

  filled(chunk, ci) {
    if (chunk.complete) return true;
    const end = Math.min(CHUNK, this.total - ci * CHUNK);
    for (let i = 0; i < end; i++) if (chunk.lines[i] === undefined) return false;
    return true;
  }

  async load(ci) {
    const chunk = this.chunk(ci);
    chunk.loading = true;
    const from = ci * CHUNK;
    const to = Math.min(from + CHUNK, this.total);
    this.requests++;
    try {
      const events = await this.fetchRange(from, to);
      for (const e of events) this.put(e);
      // lines no event covers (a hole in the store) stay empty rather than being asked for again and again
      const mine = this.chunk(ci);
      for (let n = from; n < to; n++) if (mine.lines[n - from] === undefined) mine.lines[n - from] = { segs: [], meta: GAP_META, n };
      mine.complete = to === from + CHUNK;
      mine.loading = false;
      this.onLoaded();
    } catch (e) {
      chunk.loading = false;
      this.chunks.delete(ci);
      this.onError(e);
    }
  }

  evict() {
    if (this.chunks.size <= this.maxChunks) return;
    const idle = [...this.chunks.entries()].filter(([, c]) => !c.loading).sort((a, b) => a[1].used - b[1].used);
    for (const [ci] of idle.slice(0, this.chunks.size - this.maxChunks)) this.chunks.delete(ci);
  }
}

/**
 * The lines of the events matching a filter, in counter order, loaded a page of events at a time as the reader
 * scrolls towards the end of what is loaded. Line numbers stay the job's own.
 */
export class FilteredLines {
  /** @param fetchPage async (afterCounter) => up to PAGE matching events after that counter */
  constructor(fetchPage, matches, { maxLines = 200000, onLoaded = () => {}, onError = () => {} } = {}) {
    this.fetchPage = fetchPage;
    this.matches = matches;
    this.maxLines = maxLines;
    this.onLoaded = onLoaded;
    this.onError = onError;
    this.lines = [];
    this.firstLine = new Map(); // counter -> index of its first line here
    this.after = 0;
    this.done = false;
    this.loading = null;
  }

  get total() {
    return this.lines.length;
  }

  get(i) {
    return this.lines[i];
  }

  ensure(from, to) {
    if (to > this.lines.length - CHUNK) this.more();
  }

  /** Loads the next page; resolves when it is in. */
  more() {
    if (this.done || this.lines.length >= this.maxLines) return Promise.resolve();
    if (!this.loading) {
      this.loading = this.fetchPage(this.after).then((events) => {
        for (const e of events) this.add(e);
        if (events.length < PAGE) this.done = true;
        if (events.length) this.after = Number(events[events.length - 1].counter);
      }).catch((e) => this.onError(e)).finally(() => {
        this.loading = null;
        this.onLoaded();
      });
    }
    return this.loading;
  }

  add(event) {
    const { lines } = eventLines(event);
    if (!lines.length) return;
    this.firstLine.set(Number(event.counter), this.lines.length);
    for (const l of lines) this.lines.push(l);
  }

  /** A live event joins the view once every stored match before it is loaded. */
  live(event) {
    if (this.done && this.matches(event) && Number(event.counter) > this.after) {
      this.add(event);
      this.after = Number(event.counter);
    }
  }

  /** The index of an event's first line, loading pages until it is reached (at most `pages` more). */
  async locate(counter, pages = 50) {
    for (let i = 0; !this.firstLine.has(counter) && !this.done && i < pages; i++) await this.more();
    return this.firstLine.has(counter) ? this.firstLine.get(counter) : null;
  }
}

/** Browsers cap an element's height (Chromium near 33.5 M px); beyond this the scrollbar maps rows by proportion. */
const MAX_SPACER_PX = 15000000;

/**
 * A virtual scroller: a spacer sized to the row count keeps the scrollbar true, and only the rows in view plus a
 * margin exist in the DOM, absolutely placed; rows have one fixed height. Rows are lines minus those inside
 * collapsed sections. Follows the tail while the reader is at the bottom.
 */
export class Viewer {
  constructor(scroller, source, {
    lineHeight = 18, margin = 30, onFollow = () => {}, onFold = null, onDraw = () => {}, onLine = null, onCopy = null,
  } = {}) {
    this.scroller = scroller;
    this.source = source;
    this.lh = lineHeight;
    this.margin = margin;
    this.onFollow = onFollow;
    this.onFold = onFold;
    this.onDraw = onDraw;
    this.onLine = onLine;
    this.onCopy = onCopy;
    this.targetN = -1;       // the job line (0-based) a #L link points at, highlighted wherever it shows
    this.stamp = null;       // (record) => text of the timestamp column, or null for none
    this.placeholders = 0;
    this.follow = false;
    this.term = '';
    this.hitLine = -1;
    this.folds = new Map(); // header line -> {from, to (null: to the end)}
    this.hidden = [];       // merged [from, to) line ranges hidden by folds
    this.rowsByLine = new Map();
    this.frame = null;
    this.lastScrollSet = -1;
    this.spacer = el('div', 'spacer');
    this.viewport = el('div', 'viewport');
    scroller.replaceChildren(this.spacer, this.viewport);
    scroller.addEventListener('scroll', () => this.scrolled());
    this.viewport.addEventListener('click', (e) => {
      const target = e.target.closest ? e.target : e.target.parentElement;
      const toggle = target.closest('.fold');
      if (toggle && this.onFold) this.onFold(Number(toggle.parentElement.dataset.line));
      const row = target.closest('.line');
      const record = row && row.record;
      if (!record || !Number.isInteger(record.n)) return;
      if (target.closest('.copy') && this.onCopy) this.onCopy(record.n);
      else if (target.closest('.ln') && this.onLine) this.onLine(record.n);
    });
  }

  setSource(source) {
    this.source = source;
    this.rowsByLine.clear();
    this.viewport.replaceChildren();
    this.recomputeHidden();
    this.setFollow(false);
    this.setScroll(0);
    this.refresh();
  }

  /** The number of rows: lines not inside a collapsed section. */
  rows() {
    let hidden = 0;
    for (const [a, b] of this.hidden) hidden += Math.max(0, Math.min(b, this.source.total) - a);
    return Math.max(0, this.source.total - hidden);
  }

  recomputeHidden() {
    const ranges = [...this.folds.values()].map((f) => [f.from, f.to === null ? Infinity : f.to]).sort((x, y) => x[0] - y[0]);
    const merged = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else if (r[1] > r[0]) merged.push(r.slice());
    }
    this.hidden = this.source.folds === false ? [] : merged;
  }

  rowToLine(row) {
    let line = row;
    for (const [a, b] of this.hidden) {
      if (a <= line) line += b - a;
      else break;
    }
    return line;
  }

  /** The row showing a line; a hidden line maps to the row of its section's header. */
  lineToRow(line) {
    let row = line;
    for (const [a, b] of this.hidden) {
      if (line < a) break;
      if (line < b) return this.lineToRow(a - 1);
      row -= b - a;
    }
    return row;
  }

  isFolded(headerLine) {
    return this.folds.has(headerLine);
  }

  fold(headerLine, from, to) {
    this.folds.set(headerLine, { from, to });
    this.recomputeHidden();
    this.rowsByLine.clear();
    this.refresh();
  }

  unfold(headerLine) {
    this.folds.delete(headerLine);
    this.recomputeHidden();
    this.rowsByLine.clear();
    this.refresh();
  }

  /** Geometry of the scrollbar: whether rows map to pixels 1:1 or by proportion (huge jobs). */
  geometry() {
    const rows = this.rows();
    const view = this.scroller.clientHeight;
    const natural = rows * this.lh;
    const height = Math.min(natural, MAX_SPACER_PX);
    const maxScroll = Math.max(0, height - view);
    const maxFirst = Math.max(0, rows - view / this.lh);
    return { rows, height, maxScroll, maxFirst, scaled: natural > MAX_SPACER_PX };
  }

  /** The (fractional) row at the top of the view. */
  topRow(g = this.geometry()) {
    const top = this.scroller.scrollTop;
    if (!g.scaled) return top / this.lh;
    return g.maxScroll === 0 ? 0 : (top / g.maxScroll) * g.maxFirst;
  }

  /** The first line in view (for searches that start "from here"). */
  topLine() {
    return this.rowToLine(Math.floor(this.topRow()));
  }

  visibleRowCount() {
    return Math.ceil(this.scroller.clientHeight / this.lh);
  }

  scrollToRow(row, align = 'top') {
    const g = this.geometry();
    let first = align === 'center' ? row - this.visibleRowCount() / 2 + 1 : row;
    first = Math.max(0, Math.min(first, g.maxFirst));
    const top = g.scaled ? (g.maxFirst === 0 ? 0 : (first / g.maxFirst) * g.maxScroll) : first * this.lh;
    this.setFollow(false);
    this.spacer.style.height = g.height + 'px';
    this.setScroll(top);
    this.refresh();
  }

  scrollToLine(line, align = 'center') {
    this.scrollToRow(this.lineToRow(line), align);
  }

  scrollToEnd() {
    this.setFollow(true);
    this.draw();
  }

  scrollToStart() {
    this.setFollow(false);
    this.setScroll(0);
    this.refresh();
  }

  setFollow(follow) {
    if (this.follow === follow) return;
    this.follow = follow;
    this.onFollow(follow);
  }

  /** Scrolls on the page's behalf; the scroll event this causes is not taken as the reader's move. */
  setScroll(top) {
    this.scroller.scrollTop = top;
    this.lastScrollSet = this.scroller.scrollTop;
  }

  scrolled() {
    if (Math.abs(this.scroller.scrollTop - this.lastScrollSet) >= 1) {
      // the reader moved: follow only while at the very bottom of something
      const g = this.geometry();
      this.setFollow(g.rows > 0 && g.maxScroll > 0 && g.maxScroll - this.scroller.scrollTop < this.lh);
      this.lastScrollSet = -1;
    }
    this.refresh();
  }

  setHighlight(term, hitLine = -1) {
    this.term = (term || '').toLowerCase();
    this.hitLine = hitLine;
    this.rowsByLine.clear();
    this.refresh();
  }

  /** Highlights the job line `n` (0-based) wherever it shows, as the target of a #L link; -1 for none. */
  setTarget(n) {
    this.targetN = n;
    this.rowsByLine.clear();
    this.refresh();
  }

  /** Shows a timestamp column made by `stamp(record)`, or none (null). */
  setStamp(stamp) {
    this.stamp = stamp;
    this.rowsByLine.clear();
    this.refresh();
  }

  /** The drawn row element of job line `n` (0-based), or null when it is not in the DOM now. */
  drawnNode(n) {
    for (const node of this.viewport.children) if (node.record && node.record.n === n) return node;
    return null;
  }

  /** Redraws on the next animation frame (many changes in a frame cost one draw). */
  refresh() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    if (this.frame !== null) {
      cancelAnimationFrame(this.frame);
      this.frame = null;
    }
    // reads first, then writes: one layout per frame, not one per property read after a DOM change
    const g = this.geometry();
    const height = g.height + 'px';
    if (this.spacer.style.height !== height) this.spacer.style.height = height;
    let scrollTop;
    if (this.follow) {
      scrollTop = g.maxScroll;
      if (Math.abs(this.scroller.scrollTop - scrollTop) >= 1) {
        this.scroller.scrollTop = scrollTop;
        this.lastScrollSet = scrollTop;
      }
    } else {
      scrollTop = this.scroller.scrollTop;
    }
    const rowFloat = g.scaled ? (g.maxScroll === 0 ? 0 : (scrollTop / g.maxScroll) * g.maxFirst) : scrollTop / this.lh;
    const first = Math.max(0, Math.floor(rowFloat) - this.margin);
    const last = Math.min(g.rows, Math.ceil(rowFloat) + this.visibleRowCount() + this.margin);
    this.source.ensure(this.rowToLine(first), this.rowToLine(Math.max(first, last - 1)) + 1);
    const keep = new Map();
    const nodes = [];
    let placeholders = 0;
    for (let row = first; row < last; row++) {
      const line = this.rowToLine(row);
      const record = this.source.get(line);
      if (record === undefined) placeholders++;
      const key = record === undefined ? -1 - line : line;
      let node = this.rowsByLine.get(key);
      if (!node || (record && node.record !== record)) node = this.row(line, record);
      keep.set(key, node);
      nodes.push(node);
    }
    this.rowsByLine = keep;
    this.place(nodes);
    const top = Math.max(0, scrollTop - (rowFloat - first) * this.lh);
    const transform = `translateY(${top}px)`;
    if (this.viewport.style.transform !== transform) this.viewport.style.transform = transform;
    this.placeholders = placeholders;
    this.onDraw(placeholders);
  }

  /** Makes the viewport's children exactly `nodes`, moving only what changed (following adds at the end). */
  place(nodes) {
    const wanted = new Set(nodes);
    for (let child = this.viewport.firstChild; child;) {
      const next = child.nextSibling;
      if (!wanted.has(child)) child.remove();
      child = next;
    }
    let cursor = this.viewport.firstChild;
    for (const node of nodes) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.viewport.insertBefore(node, cursor);
    }
  }

  row(line, record) {
    const node = el('div', 'line');
    node.record = record;
    node.dataset.line = String(line);
    if (record === undefined) {
      node.classList.add('loading');
      node.appendChild(el('span', 'ln', line + 1));
      node.appendChild(el('span', 'copy none'));
      if (this.stamp) node.appendChild(el('span', 'ts'));
      node.appendChild(el('span', 'fold none'));
      node.appendChild(el('span', 'tx', '…'));
      return node;
    }
    const m = record.meta;
    if (m.failed) node.classList.add('failed');
    else if (m.changed) node.classList.add('changed');
    if (line === this.hitLine) node.classList.add('hit');
    if (record.n === this.targetN) node.classList.add('target');
    const ln = el('span', 'ln', record.n + 1);
    ln.title = 'link to this line';
    node.appendChild(ln);
    const copy = el('span', 'copy', '¶');
    copy.title = 'copy link to line ' + (record.n + 1);
    node.appendChild(copy);
    if (this.stamp) node.appendChild(el('span', 'ts', this.stamp(record)));
    const header = this.source.folds !== false && isSectionEnd(record, this.source.get(line + 1));
    const fold = el('span', header ? 'fold' : 'fold none', header ? (this.isFolded(line) ? '▸' : '▾') : '');
    if (header) fold.title = this.isFolded(line) ? 'expand' : 'collapse';
    node.appendChild(fold);
    const tx = el('span', 'tx');
    appendHighlighted(tx, record.segs, this.term);
    node.appendChild(tx);
    return node;
  }

  /** Line elements in the DOM now (the tests check this stays bounded). */
  domLines() {
    return this.viewport.childElementCount;
  }
}

const SECTION_EVENTS = new Set(['playbook_on_play_start', 'playbook_on_task_start', 'playbook_on_handler_task_start']);

/** A play or task header: the last line of its start event carries the collapse toggle. */
function isSectionEnd(record, next) {
  if (!SECTION_EVENTS.has(record.meta.event)) return false;
  return !next || next.meta !== record.meta;
}

export function isSectionEvent(name) {
  return SECTION_EVENTS.has(name);
}

/** Appends styled segments, wrapping case-insensitive matches of `term` in <mark> (all as text). */
function appendHighlighted(parent, segs, term) {
  for (const s of segs) {
    const target = s.cls || s.color || s.background ? styled(s) : parent;
    if (!term) {
      target.appendChild(document.createTextNode(s.text));
    } else {
      const lower = s.text.toLowerCase();
      let at = 0;
      for (let i = lower.indexOf(term); i >= 0; i = lower.indexOf(term, at)) {
        if (i > at) target.appendChild(document.createTextNode(s.text.substring(at, i)));
        target.appendChild(el('mark', null, s.text.substring(i, i + term.length)));
        at = i + term.length;
      }
      if (at < s.text.length) target.appendChild(document.createTextNode(s.text.substring(at)));
    }
    if (target !== parent) parent.appendChild(target);
  }
}

function styled(s) {
  const span = document.createElement('span');
  if (s.cls) span.className = s.cls;
  if (s.color) span.style.color = s.color;
  if (s.background) span.style.backgroundColor = s.background;
  return span;
}
