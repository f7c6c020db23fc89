// A chart panel: each run's curve of one metric (or, grouped, each group's mean with its
// min–max band), downsampled on the server, drawn with uPlot. uPlot's own legend is the
// readout: hovering shows the step and every curve's value there, the curve nearest the
// cursor is highlighted, and clicking a legend entry hides or shows that run. Metric, log
// scale and smoothing are chosen on the panel; live while a run trains.
import { watch } from './live.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

// smooth is an exponential moving average with TensorBoard's bias correction.
export function smooth(ys, weight) {
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

// fmt writes a value for the readout: five significant digits, no trailing zeros.
export function fmt(v) {
  return v == null || Number.isNaN(v) ? '–' : String(Number(v.toPrecision(5)));
}

// The canvas is drawn with the page's colours (light or dark theme): read from its CSS
// variables at each drawing, and every chart drawn again when the theme changes.
function themeColours() {
  const cs = getComputedStyle(document.documentElement);
  return { fg: cs.getPropertyValue('--fg').trim() || '#1d2330', line: cs.getPropertyValue('--line').trim() || '#e3e6ec' };
}
const redraws = new Set();
new MutationObserver(() => redraws.forEach((f) => f())).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => redraws.forEach((f) => f()));

const X_TITLES = { epoch: 'epoch', step: 'step', time: 'wall-clock time' };
const INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

// mountChart draws a panel and keeps it current. onChange is called after the user changes
// the panel's metric, scale or smoothing (the charts page keeps them in the URL).
export function mountChart(panel, onChange = () => {}) {
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
  const hidden = new Set(); // runs (or group values) hidden from the legend; kept across reloads
  let live = panel.hasAttribute('data-live');
  let data = null;
  let plot = null;
  let seq = 0;
  let stream = null;

  const axis = () => (xEl ? xEl.value : panel.dataset.x || 'auto');

  async function load() {
    if (!runs.length || !keyEl.value) return;
    const p = new URLSearchParams({ key: keyEl.value, x: axis() });
    if (panel.dataset.group) p.set('group', panel.dataset.group);
    runs.forEach((id) => p.append('run', id));
    const n = ++seq;
    const res = await fetch('/api/series?' + p);
    if (n !== seq) return;
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      status.textContent = `could not load the curves: ${body.error || res.status}`;
      return;
    }
    data = await res.json();
    // Once every run has ended nothing more will come: the panel stops following the store.
    if (live && data.series.length && data.series.every((s) => s.status !== 'RUNNING')) {
      live = false;
      panel.removeAttribute('data-live');
      if (stream) { stream.close(); stream = null; }
    }
    status.textContent = live ? 'live · updated ' + new Date().toLocaleTimeString() : '';
    render();
  }

  // curves lays out what uPlot draws: one entry per run, or per group its mean and band.
  function curves(weight, log) {
    const clip = (ys) => (log ? ys.map((y) => (y != null && y > 0 ? y : null)) : ys);
    const out = [];
    if (data.groups) {
      data.groups.forEach((g, i) => {
        if (!g.x.length) return;
        const colour = PALETTE[i % PALETTE.length];
        const what = data.group === 'config' ? g.value || '(no params)' : `${data.group.replace(/^(params|tags)\./, '')}=${g.value || '(none)'}`;
        const name = `${what} · ${g.runs.length} run${g.runs.length === 1 ? '' : 's'}`;
        const mean = clip(smooth(g.mean, weight));
        const lo = clip(smooth(g.min, weight));
        const hi = clip(smooth(g.max, weight));
        out.push({ id: 'group:' + g.value, x: g.x, ys: [mean, hi, lo], name, colour, group: g });
      });
      return out;
    }
    data.series.forEach((s, i) => {
      if (!s.x.length) return;
      out.push({ id: s.run, x: s.x, ys: [clip(smooth(s.y, weight))], name: s.name, colour: PALETTE[i % PALETTE.length] });
    });
    return out;
  }

  function render() {
    if (!data) return;
    const log = logEl.checked;
    const weight = Number(smoothEl.value);
    smoothOut.textContent = weight.toFixed(2);
    const cs = curves(weight, log);
    const tables = [];
    const series = [{ label: X_TITLES[data.x] || data.x, value: data.x === 'time' ? undefined : (u, v) => fmt(v) }];
    const bands = [];
    const edges = []; // series indices of band edges, left out of the legend
    const ids = [null];
    let points = 0;
    for (const c of cs) {
      const show = !hidden.has(c.id);
      tables.push([c.x, ...c.ys]);
      points += c.x.length;
      const first = series.length;
      const spread = c.group;
      series.push({
        label: c.name, stroke: c.colour, width: 2, spanGaps: true, show,
        points: { show: c.x.length <= 60, size: 5 },
        value: spread
          ? (u, v, si, idx) => (v == null ? '–' : `${fmt(v)} (${fmt(u.data[si + 2][idx])}–${fmt(u.data[si + 1][idx])}, n=${spread.n[idx] ?? '–'})`)
          : (u, v) => fmt(v),
      });
      ids.push(c.id);
      if (spread) {
        for (const label of ['max', 'min']) {
          edges.push(series.length);
          ids.push(c.id);
          series.push({ label, stroke: c.colour + '66', width: 1, spanGaps: true, show, points: { show: false } });
        }
        bands.push({ series: [first + 1, first + 2], fill: c.colour + '26' });
      }
    }
    if (plot) { plot.destroy(); plot = null; }
    plotEl.dataset.points = String(points);
    plotEl.dataset.series = String(cs.length);
    plotEl.dataset.bands = String(bands.length);
    drawLegend();
    if (!tables.length) {
      note.textContent = live ? 'No values of this metric yet.' : 'No values of this metric.';
      return;
    }
    note.textContent = data.series.some((s) => s.total > s.x.length + s.nonfinite)
      ? 'Long series are downsampled on the server (LTTB, at most 2,000 points each).' : '';
    const time = data.x === 'time';
    const { fg, line } = themeColours();
    const themed = (o) => ({ stroke: fg, grid: { stroke: line }, ticks: { stroke: line }, ...o });
    const opts = {
      width: Math.max(plotEl.clientWidth, 320), height: panel.classList.contains('grid-panel') ? 260 : 340,
      scales: { x: { time }, y: { distr: log ? 3 : 1 } },
      // Epochs and steps are whole numbers: no ticks between them.
      axes: [themed(time ? { label: X_TITLES.time } : { label: data.x, incrs: INCRS }), themed({ label: data.label, size: 70 })],
      series, bands,
      legend: { show: true, live: true },
      cursor: { focus: { prox: 30 } },
      focus: { alpha: 0.25 },
      hooks: {
        setSeries: [(u, i, o) => {
          // A band's edge near the cursor passes the highlight to its mean.
          if (o && o.focus && edges.includes(i)) {
            u.setSeries(edges.includes(i - 1) ? i - 2 : i - 1, { focus: true });
            return;
          }
          if (o && o.focus !== undefined) panel.dataset.focused = i == null || !o.focus ? '' : u.series[i].label;
          if (o && o.show !== undefined && i != null) {
            if (o.show) hidden.delete(ids[i]); else hidden.add(ids[i]);
            // A band's edges follow its mean.
            if (!edges.includes(i) && data.groups) [i + 1, i + 2].forEach((j) => edges.includes(j) && u.series[j].show !== o.show && u.setSeries(j, { show: o.show }));
            panel.dataset.hidden = [...hidden].join(' ');
          }
        }],
      },
    };
    plot = new uPlot(opts, tables.length === 1 ? tables[0] : uPlot.join(tables), plotEl);
    const rows = plot.root.querySelectorAll('.u-legend tr.u-series');
    edges.forEach((i) => rows[i] && rows[i].classList.add('band-edge'));
    rows.forEach((r, i) => { if (i > 0) r.title = 'click to hide or show'; });
    plot.root.querySelector('.u-legend').title = data.key;
  }

  // The list under the chart: each run with a link to its page and how many values it logged.
  function drawLegend() {
    legend.replaceChildren();
    // Grouped, each run takes its group's colour.
    const groupOf = new Map();
    (data.groups || []).forEach((g, i) => g.runs.forEach((id) => groupOf.set(id, i)));
    data.series.forEach((s, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      const colour = data.groups ? groupOf.get(s.run) : i;
      sw.style.background = colour === undefined ? 'transparent' : PALETTE[colour % PALETTE.length];
      const a = document.createElement('a');
      a.href = '/runs/' + encodeURIComponent(s.run);
      a.textContent = s.name;
      const info = document.createElement('span');
      info.className = 'muted';
      const shown = s.x.length === s.total ? `${s.total} value${s.total === 1 ? '' : 's'}` : `${s.x.length} of ${s.total} values`;
      info.textContent = ` ${s.status.toLowerCase()} · ${s.total ? shown : 'no values yet'}` +
        (s.nonfinite ? ` · ${s.nonfinite} not finite, left out` : '');
      li.append(sw, a, info);
      legend.append(li);
    });
  }

  const changed = () => { onChange(); };
  keyEl.addEventListener('change', () => { load(); changed(); });
  if (xEl) xEl.addEventListener('change', load);
  const groupEl = panel.querySelector('.chart-group');
  if (groupEl) groupEl.addEventListener('change', () => { panel.dataset.group = groupEl.value; load(); });
  logEl.addEventListener('change', () => { render(); changed(); });
  smoothEl.addEventListener('input', render);
  smoothEl.addEventListener('change', changed);
  let resize = 0;
  const onResize = () => {
    clearTimeout(resize);
    resize = setTimeout(() => plot && plot.setSize({ width: Math.max(plotEl.clientWidth, 320), height: plot.height }), 150);
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
      const o = new Option(k.title === k.key ? k.key : `${k.title} (${k.key})`, k.key);
      o.title = k.key;
      keyEl.append(o);
    }
  }
  redraws.add(render);
  if (live) stream = watch(runs, () => { load(); refreshKeys(); });
  load();
  return {
    // state is the panel's view, for the URL.
    state: () => ({ key: keyEl.value, log: logEl.checked, smooth: Number(smoothEl.value) }),
    // setView changes the page-wide x axis or grouping and draws again.
    setView({ x, group }) {
      if (x !== undefined) panel.dataset.x = x;
      if (group !== undefined) panel.dataset.group = group;
      load();
    },
    // close stops the chart's updates (its panel is being replaced or removed).
    close() {
      if (stream) stream.close();
      redraws.delete(render);
      window.removeEventListener('resize', onResize);
      if (plot) plot.destroy();
    },
  };
}
