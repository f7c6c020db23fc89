// aelab ui: one entry point; each page's parts start what they need.
import { mountChart } from './chart.js';
import { initPanels } from './panels.js';
import { initParallel } from './parallel.js';
import { initRuns } from './runs.js';
import { initKeys } from './keys.js';
import { watch, swapParts } from './live.js';
import { updateLinks } from './selection.js';

function start() {
  initKeys();
  updateLinks();
  const charts = [...document.querySelectorAll('[data-chart]:not(.grid-panel)')].map((panel) => ({ panel, chart: mountChart(panel) }));
  const toolbar = document.getElementById('charts-toolbar');
  if (toolbar) initPanels(toolbar);
  const parallel = document.getElementById('parallel');
  if (parallel) initParallel(parallel);

  const form = document.getElementById('query');
  const table = document.getElementById('runs-table');
  if (form && table) initRuns(form, table);

  // A live page (a running run's, a sweep's with trials to come): its parts follow the store
  // (its runs', or the whole store's when it names none) until nothing is left to happen.
  const page = document.querySelector('[data-live-page][data-live]');
  if (page) {
    const stream = watch((page.dataset.runs || '').split(' ').filter(Boolean), async () => {
      const res = await fetch(location.pathname + location.search, { headers: { Accept: 'text/html' } });
      if (!res.ok) return;
      const doc = swapParts(page, await res.text());
      // A chart whose runs changed (a sweep's new trial) is drawn anew.
      const fresh = [...doc.querySelectorAll('[data-chart]')];
      charts.forEach((c, i) => {
        if (!fresh[i] || fresh[i].dataset.runs === c.panel.dataset.runs) return;
        const next = document.importNode(fresh[i], true);
        c.panel.replaceWith(next);
        c.chart.close();
        charts[i] = { panel: next, chart: mountChart(next) };
      });
      if (!doc.querySelector('[data-live-page][data-live]')) stream.close(); // ended: nothing more to follow
    });
  }

  const only = document.getElementById('only-differences');
  if (only) only.addEventListener('change', () => document.querySelector('table.compare').classList.toggle('only-differences', only.checked));
}

// uPlot is a classic deferred script; modules run after it, but wait for the DOM to be sure.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
