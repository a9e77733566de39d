// The play recap panel on the job page: AWX's job_host_summaries, one row per host, as Ansible's PLAY RECAP prints
// them (ok, changed, unreachable, failed, skipped, rescued, ignored). Refreshed by the page while the job runs.
import { el, getJson, resultsOf } from './common.js';

const COLUMNS = [
  ['ok', 'ok'], ['changed', 'changed'], ['dark', 'unreachable'], ['failures', 'failed'],
  ['skipped', 'skipped'], ['rescued', 'rescued'], ['ignored', 'ignored'],
];
const MAX_PAGES = 50;

export class Recap {
  constructor(jobId, panel, onError) {
    this.jobId = jobId;
    this.panel = panel;
    this.body = panel.querySelector('tbody');
    this.summary = panel.querySelector('.recap-count');
    this.onError = onError;
    this.busy = false;
    this.key = '';
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const rows = [];
      let url = `/api/v2/jobs/${this.jobId}/job_host_summaries/?page_size=200`;
      for (let i = 0; url && i < MAX_PAGES; i++) {
        const body = await getJson(url);
        rows.push(...resultsOf(body));
        url = body && typeof body.next === 'string' && body.next.startsWith('/') ? body.next : null;
      }
      this.show(rows);
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  show(rows) {
    const key = JSON.stringify(rows);
    if (key === this.key) return; // nothing new: keep the DOM (and the reader's selection) as it is
    this.key = key;
    this.panel.hidden = rows.length === 0;
    const failed = rows.filter((r) => r.failed || r.failures > 0 || r.dark > 0).length;
    this.summary.textContent = `${rows.length} hosts${failed ? `, ${failed} failed` : ''}`;
    const link = `/jobs/${this.jobId}/hosts`;
    this.body.replaceChildren(...rows.map((r) => {
      const tr = el('tr', r.failed || r.failures > 0 || r.dark > 0 ? 'bad' : null);
      const name = el('th');
      const a = el('a', null, r.host_name || '');
      a.href = `${link}?host=${encodeURIComponent(r.host_name || '')}`;
      name.appendChild(a);
      tr.appendChild(name);
      for (const [key, label] of COLUMNS) {
        const n = Number(r[key]) || 0;
        const td = el('td', n > 0 ? 'n-' + key : 'zero', n);
        td.title = label;
        tr.appendChild(td);
      }
      return tr;
    }));
  }
}
