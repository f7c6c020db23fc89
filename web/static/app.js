// aelab ui: one entry point; each page's parts start what they need.
import { mountChart } from './chart.js';
import { initRuns } from './runs.js';
import { watch, swapParts } from './live.js';
import { updateLinks } from './selection.js';

function start() {
  updateLinks();
  document.querySelectorAll('[data-chart]').forEach(mountChart);

  const form = document.getElementById('query');
  const table = document.getElementById('runs-table');
  if (form && table) initRuns(form, table);

  // A running run's page: its parts follow the store until the run ends.
  const run = document.querySelector('.run-page[data-live]');
  if (run) {
    const source = watch([run.dataset.run], async () => {
      const res = await fetch(location.pathname, { headers: { Accept: 'text/html' } });
      if (!res.ok) return;
      const doc = swapParts(run, await res.text());
      if (!doc.querySelector('.run-page[data-live]')) source.close(); // ended: nothing more to follow
    });
  }

  const only = document.getElementById('only-differences');
  if (only) only.addEventListener('change', () => document.querySelector('table.compare').classList.toggle('only-differences', only.checked));
}

// uPlot is a classic deferred script; modules run after it, but wait for the DOM to be sure.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
