// The charts page: a grid of panels over the same runs, one metric each, added by searching
// the metric names and removed with ×. Each panel keeps its own scale and smoothing; the x
// axis and the grouping are the page's. The whole view lives in the URL (?key= per panel,
// ?log=KEY, ?smooth=KEY:WEIGHT, ?x=, ?group=, ?run=), so a link reopens it.
import { mountChart } from './chart.js';

export function initPanels(toolbar) {
  const grid = document.getElementById('panels');
  const template = document.getElementById('panel-template');
  const search = document.getElementById('metric-search');
  const names = [...document.querySelectorAll('#metric-names option')].map((o) => ({ key: o.value, title: o.label || o.textContent }));
  const xEl = document.getElementById('charts-x');
  const groupEl = document.getElementById('charts-group');
  const message = document.getElementById('charts-message');
  const parallel = document.getElementById('parallel-link');
  const runs = toolbar.dataset.runs.split(' ').filter(Boolean);
  const panels = [];

  function syncURL() {
    const p = new URLSearchParams();
    runs.forEach((id) => p.append('run', id));
    for (const { chart } of panels) {
      const s = chart.state();
      p.append('key', s.key);
      if (s.log) p.append('log', s.key);
      if (s.smooth) p.append('smooth', `${s.key}:${s.smooth}`);
    }
    if (xEl.value !== 'auto') p.set('x', xEl.value);
    if (groupEl.value) p.set('group', groupEl.value);
    history.replaceState(null, '', '/charts?' + p);
    const q = new URLSearchParams();
    runs.forEach((id) => q.append('run', id));
    parallel.href = '/parallel?' + q;
  }

  function mount(panel) {
    const entry = { panel, chart: mountChart(panel, syncURL) };
    panels.push(entry);
    panel.querySelector('.chart-remove').addEventListener('click', () => {
      entry.chart.close();
      panel.remove();
      panels.splice(panels.indexOf(entry), 1);
      syncURL();
    });
  }

  // add opens a panel for what the search box holds: a metric's key, or its title.
  function add() {
    const want = search.value.trim();
    if (!want) return;
    const m = names.find((n) => n.key === want) || names.find((n) => n.title.toLowerCase() === want.toLowerCase());
    if (!m) {
      message.textContent = `No curve named "${want}" among these runs: pick one from the list.`;
      return;
    }
    search.value = '';
    const open = panels.find(({ chart }) => chart.state().key === m.key);
    if (open) {
      message.textContent = `${m.title} is already shown.`;
      open.panel.scrollIntoView({ block: 'nearest' });
      return;
    }
    message.textContent = '';
    const panel = template.content.firstElementChild.cloneNode(true);
    panel.querySelector('.chart-key').value = m.key;
    panel.dataset.x = xEl.value;
    panel.dataset.group = groupEl.value;
    grid.append(panel);
    mount(panel);
    syncURL();
  }

  grid.querySelectorAll('[data-chart]').forEach(mount);
  search.addEventListener('change', add);
  // Picking a name from the list adds its panel at once.
  search.addEventListener('input', (ev) => { if (ev.inputType === 'insertReplacementText') add(); });
  search.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); add(); } });
  const setView = () => {
    message.textContent = groupEl.value && xEl.value === 'time' ? 'Grouping needs the step or epoch axis.' : '';
    panels.forEach(({ chart }) => chart.setView({ x: xEl.value, group: groupEl.value }));
    syncURL();
  };
  xEl.addEventListener('change', setView);
  groupEl.addEventListener('change', setView);
  syncURL();
}
