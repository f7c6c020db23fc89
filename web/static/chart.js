// A chart panel: each run's curve of one metric, downsampled on the server, drawn with uPlot;
// metric, log scale, smoothing and x axis chosen on the panel; live while a run trains.
import { watch } from './live.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

// smooth is an exponential moving average with TensorBoard's bias correction.
function smooth(ys, weight) {
  if (!weight) return ys;
  let avg = 0;
  let n = 0;
  return ys.map((y) => {
    if (y == null) return null;
    avg = avg * weight + (1 - weight) * y;
    n++;
    return avg / (1 - weight ** n);
  });
}

export function mountChart(panel) {
  const runs = panel.dataset.runs.split(' ').filter(Boolean);
  const plotEl = panel.querySelector('.chart-plot');
  const legend = panel.querySelector('.chart-legend');
  const note = panel.querySelector('.chart-note');
  const status = panel.querySelector('.chart-status');
  const keyEl = panel.querySelector('.chart-key');
  const logEl = panel.querySelector('.chart-log');
  const smoothEl = panel.querySelector('.chart-smooth');
  const smoothOut = panel.querySelector('.chart-smooth-value');
  const xEl = panel.querySelector('.chart-x');
  let data = null;
  let plot = null;
  let seq = 0;

  async function load() {
    if (!runs.length || !keyEl.value) return;
    const p = new URLSearchParams({ key: keyEl.value, x: xEl.value });
    runs.forEach((id) => p.append('run', id));
    const n = ++seq;
    const res = await fetch('/api/series?' + p);
    if (n !== seq) return;
    if (!res.ok) {
      status.textContent = `could not load the curves: ${res.status}`;
      return;
    }
    data = await res.json();
    status.textContent = panel.hasAttribute('data-live') ? 'live · updated ' + new Date().toLocaleTimeString() : '';
    render();
  }

  function render() {
    if (!data) return;
    const log = logEl.checked;
    const weight = Number(smoothEl.value);
    smoothOut.textContent = weight.toFixed(2);
    const tables = [];
    const series = [{ label: data.x }];
    let points = 0;
    data.series.forEach((s, i) => {
      if (!s.x.length) return;
      let ys = smooth(s.y, weight);
      if (log) ys = ys.map((y) => (y != null && y > 0 ? y : null));
      tables.push([s.x, ys]);
      points += s.x.length;
      series.push({ label: s.name, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true,
        points: { show: s.x.length <= 60, size: 5 } });
    });
    if (plot) { plot.destroy(); plot = null; }
    plotEl.dataset.points = String(points);
    plotEl.dataset.series = String(tables.length);
    drawLegend();
    if (!tables.length) {
      note.textContent = 'No values of this metric yet.';
      return;
    }
    note.textContent = data.series.some((s) => s.total > s.x.length + s.nonfinite)
      ? 'Long series are downsampled on the server (LTTB, at most 2,000 points each).' : '';
    const opts = {
      width: Math.max(plotEl.clientWidth, 320), height: 340,
      scales: { x: { time: false }, y: { distr: log ? 3 : 1 } },
      // Epochs and steps are whole numbers: no ticks between them.
      axes: [{ label: data.x, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7] },
        { label: data.label, size: 70 }],
      series, legend: { show: false },
    };
    plot = new uPlot(opts, tables.length === 1 ? tables[0] : uPlot.join(tables), plotEl);
  }

  function drawLegend() {
    legend.replaceChildren();
    data.series.forEach((s, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = PALETTE[i % PALETTE.length];
      const a = document.createElement('a');
      a.href = '/runs/' + encodeURIComponent(s.run);
      a.textContent = s.name;
      const info = document.createElement('span');
      info.className = 'muted';
      const shown = s.x.length === s.total ? `${s.total} values` : `${s.x.length} of ${s.total} values`;
      info.textContent = ` ${s.status.toLowerCase()} · ${s.total ? shown : 'no values yet'}` +
        (s.nonfinite ? ` · ${s.nonfinite} not finite, left out` : '');
      li.append(sw, a, info);
      legend.append(li);
    });
  }

  keyEl.addEventListener('change', load);
  xEl.addEventListener('change', load);
  logEl.addEventListener('change', render);
  smoothEl.addEventListener('input', render);
  let resize = 0;
  const onResize = () => {
    clearTimeout(resize);
    resize = setTimeout(() => plot && plot.setSize({ width: Math.max(plotEl.clientWidth, 320), height: 340 }), 150);
  };
  window.addEventListener('resize', onResize);
  // New metrics appear in the chooser as a live run logs them.
  async function refreshKeys() {
    const p = new URLSearchParams();
    runs.forEach((id) => p.append('run', id));
    const res = await fetch('/api/curves?' + p);
    if (!res.ok) return;
    const have = new Set([...keyEl.options].map((o) => o.value));
    for (const k of await res.json()) {
      if (have.has(k.key)) continue;
      keyEl.append(new Option(k.title === k.key ? k.key : `${k.title} (${k.key})`, k.key));
    }
  }
  const stream = panel.hasAttribute('data-live') ? watch(runs, () => { load(); refreshKeys(); }) : null;
  load();
  // close stops the chart's updates (its panel is being replaced).
  return {
    close() {
      if (stream) stream.close();
      window.removeEventListener('resize', onResize);
      if (plot) plot.destroy();
    },
  };
}
