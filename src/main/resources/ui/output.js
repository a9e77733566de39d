// A job's output: events put back in counter order (EventSequencer), then drawn as lines (LineRenderer).
import { appendSegments, newAnsiState, parseAnsi } from './ansi.js';
import { el } from './common.js';

/**
 * Puts events from REST and the websocket into counter order, each counter once. Events that arrive early
 * wait in `pending` until the counters before them are in; `highest` remembers the largest counter known to
 * exist (seen, or announced by a summary's final_counter), so a missing stretch shows up as a gap that the
 * page can fetch by REST.
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
 * Appends lines to the output element in batches, at most once per animation frame, and keeps at most
 * `maxLines` lines in the DOM (older ones are removed and counted; the full text is a download away).
 * Follows the tail unless the user has scrolled up.
 */
export class LineRenderer {
  constructor(container, { maxLines = 20000, linesPerFrame = 3000, onChange = () => {} } = {}) {
    this.container = container;
    this.maxLines = maxLines;
    this.linesPerFrame = linesPerFrame;
    this.onChange = onChange;
    this.queue = [];          // {event, lines, next (index of the next line to draw), state}
    this.queuedLines = 0;
    this.domLines = 0;
    this.totalLines = 0;      // every line received, drawn or trimmed
    this.trimmedLines = 0;
    this.follow = true;
    this.frame = null;
    container.addEventListener('scroll', () => {
      const fromBottom = container.scrollHeight - container.scrollTop - container.clientHeight;
      this.follow = fromBottom < 32;
    });
  }

  addEvent(event) {
    const stdout = typeof event.stdout === 'string' ? event.stdout : '';
    if (stdout === '') return;
    const lines = stdout.split(/\r\n|\n/);
    this.queue.push({ event, lines, next: 0, state: newAnsiState() });
    this.queuedLines += lines.length;
    this.totalLines += lines.length;
    this.dropQueuedBeyondCap();
    this.schedule();
  }

  /** A huge backlog would be drawn only to be trimmed: drop whole queued events that cannot stay anyway. */
  dropQueuedBeyondCap() {
    while (this.queue.length > 1 && this.queuedLines - (this.queue[0].lines.length - this.queue[0].next) >= this.maxLines) {
      const dropped = this.queue.shift();
      const count = dropped.lines.length - dropped.next;
      this.queuedLines -= count;
      this.trimmedLines += count;
    }
  }

  /** A notice line in the output (not from stdout), e.g. for counters the store never had. */
  addNotice(text) {
    this.queue.push({ notice: text, lines: [text], next: 0 });
    this.queuedLines += 1;
    this.schedule();
  }

  schedule() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.drawFrame());
  }

  drawFrame() {
    this.frame = null;
    const fragment = document.createDocumentFragment();
    let budget = this.linesPerFrame;
    while (budget > 0 && this.queue.length) {
      const item = this.queue[0];
      while (budget > 0 && item.next < item.lines.length) {
        fragment.appendChild(item.notice ? this.noticeLine(item.notice) : this.line(item));
        item.next++;
        budget--;
      }
      if (item.next === item.lines.length) this.queue.shift();
    }
    const drawn = this.linesPerFrame - budget;
    this.queuedLines -= drawn;
    this.domLines += drawn;
    this.container.appendChild(fragment);
    this.trimDom();
    if (this.follow) this.container.scrollTop = this.container.scrollHeight;
    this.onChange(this);
    if (this.queue.length) this.schedule();
  }

  line(item) {
    const { event } = item;
    const index = item.next;
    const row = el('div', event.failed ? 'line failed' : 'line');
    const start = Number.isInteger(event.start_line) ? event.start_line : null;
    row.appendChild(el('span', 'ln', start === null ? '' : start + index + 1));
    const text = el('span', 'tx');
    appendSegments(text, parseAnsi(item.lines[index], item.state));
    row.appendChild(text);
    return row;
  }

  noticeLine(text) {
    const row = el('div', 'line notice');
    row.appendChild(el('span', 'ln', ''));
    row.appendChild(el('span', 'tx', text));
    return row;
  }

  trimDom() {
    const excess = this.domLines - this.maxLines;
    if (excess <= 0) return;
    const heightBefore = this.container.scrollHeight;
    for (let i = 0; i < excess && this.container.firstChild; i++) this.container.removeChild(this.container.firstChild);
    this.domLines -= excess;
    this.trimmedLines += excess;
    // keep what a reader who scrolled up is looking at in place
    if (!this.follow) this.container.scrollTop -= heightBefore - this.container.scrollHeight;
  }

  scrollToEnd() {
    this.follow = true;
    this.container.scrollTop = this.container.scrollHeight;
  }
}
