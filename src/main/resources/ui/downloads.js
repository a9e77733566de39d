// Downloads of the job's output that keep what the reader is looking at. Without a filter the links point at the
// server's streamed stdout (txt_download / ansi_download, with ?timestamps=1 when asked). With a filter (host, task,
// failed/changed) the file is built here from the same job_events query the filtered view reads, a page at a time,
// in counter order, so it holds exactly the lines on screen.
import { getJson, resultsOf } from './common.js';
import { PAGE } from './output.js';

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * The text of a filtered download: each event's stdout and a newline (as the server's stdout), its lines prefixed
 * with the event's `created` when `timestamps` is set (as ?timestamps=1 does).
 * @param fetchPage async (afterCounter) => up to PAGE matching events after it, in counter order
 */
export async function filteredText(fetchPage, { ansi, timestamps }) {
  const parts = [];
  let after = 0;
  for (;;) {
    const events = await fetchPage(after);
    for (const e of events) {
      const stdout = typeof e.stdout === 'string' ? e.stdout : '';
      if (stdout === '') continue;
      const text = ansi ? stdout : stdout.replace(ANSI, '');
      parts.push(timestamps ? stampLines(text, e.created) : text, '\n');
    }
    if (events.length < PAGE) return parts.join('');
    after = Number(events[events.length - 1].counter);
  }
}

function stampLines(text, created) {
  const prefix = (created || '') + ' ';
  return text.split(/\r\n|\n/).map((line) => prefix + line).join('\n');
}

/** Wires the download links: `filters()` gives the active job_events filter (empty: none). */
export class Downloads {
  constructor(jobId, links, timestampsBox, note, filters, onError) {
    this.jobId = jobId;
    this.links = links; // {txt_download: <a>, ansi_download: <a>}
    this.timestampsBox = timestampsBox;
    this.note = note;
    this.filters = filters;
    this.onError = onError;
    for (const [format, link] of Object.entries(links)) link.addEventListener('click', (e) => this.clicked(e, format));
    timestampsBox.addEventListener('change', () => this.update());
    this.update();
  }

  /** Called when the filters or the timestamps box change: the links say what they will download. */
  update() {
    const filtered = Object.keys(this.filters()).length > 0;
    const stamps = this.timestampsBox.checked ? '&timestamps=1' : '';
    for (const [format, link] of Object.entries(this.links)) {
      link.href = `/api/v2/jobs/${this.jobId}/stdout/?format=${format}${stamps}`;
      link.title = filtered ? 'the lines the filter shows' : 'the whole output';
    }
    this.note.textContent = filtered ? '(filtered)' : '';
  }

  async clicked(e, format) {
    const p = this.filters();
    if (Object.keys(p).length === 0) return; // the server streams the whole output
    e.preventDefault();
    const ansi = format === 'ansi_download';
    this.note.textContent = '(preparing…)';
    try {
      const url = `/api/v2/jobs/${this.jobId}/job_events/?`;
      const text = await filteredText(async (after) => resultsOf(await getJson(url + new URLSearchParams({
        ...p, not__stdout: '', counter__gt: after, order_by: 'counter', limit: PAGE, no_truncate: 1,
      }))), { ansi, timestamps: this.timestampsBox.checked });
      const blob = new Blob([text], { type: 'text/plain;charset=utf-8' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `job_${this.jobId}_filtered.${ansi ? 'ansi' : 'txt'}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      this.update();
    } catch (err) {
      this.update();
      this.onError(err);
    }
  }
}
