// Parallel coordinates drawn as SVG: one vertical axis per chosen param or metric, one line
// per run, coloured by a metric (blue the better end, red the worse). Dragging along an axis
// brushes a range: only the runs inside every brush stay lit, and the table under the plot
// narrows to them. The brushes live in the URL (?brush=FIELD:LO:HI), and each change is
// announced as an "aelab:brushed" event on document whose detail.ids are the runs kept.

const NS = 'http://www.w3.org/2000/svg';
const HEIGHT = 380;
const TOP = 46;
const BOTTOM = 28;
const SIDE = 70;

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

// colourOf maps t in [0, 1] (1 the better end) from red through grey to blue.
function colourOf(t) {
  const a = [214, 39, 40];
  const b = [31, 119, 180];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export async function initParallel(root) {
  const svg = root.querySelector('svg');
  const table = document.getElementById('parallel-table');
  const count = document.getElementById('parallel-count');
  const charts = document.getElementById('parallel-charts');
  const p = new URLSearchParams();
  if (root.dataset.runs) root.dataset.runs.split(' ').forEach((id) => p.append('run', id));
  else if (root.dataset.q) p.set('q', root.dataset.q);
  if (root.dataset.axes) root.dataset.axes.split(',').forEach((a) => p.append('axis', a));
  if (root.dataset.color) p.set('color', root.dataset.color);
  const res = await fetch('/api/parallel?' + p);
  const data = await res.json();
  if (!res.ok) {
    count.textContent = data.error || `could not load the runs: ${res.status}`;
    return;
  }
  const { axes, runs } = data;
  // brushes: axis index → [lo, hi] in the axis's values.
  const brushes = new Map();
  for (const b of new URLSearchParams(location.search).getAll('brush')) {
    const i = b.lastIndexOf(':', b.lastIndexOf(':') - 1);
    const a = axes.findIndex((ax) => ax.field === b.slice(0, i));
    const [lo, hi] = b.slice(i + 1).split(':').map(Number);
    if (a >= 0 && Number.isFinite(lo) && Number.isFinite(hi)) brushes.set(a, [Math.min(lo, hi), Math.max(lo, hi)]);
  }

  const width = Math.max(root.clientWidth, 640);
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', HEIGHT);
  const span = HEIGHT - TOP - BOTTOM;
  const xOf = (a) => (axes.length === 1 ? width / 2 : SIDE + (a * (width - 2 * SIDE)) / (axes.length - 1));
  const yOf = (a, v) => {
    const ax = axes[a];
    if (ax.max === ax.min) return TOP + span / 2;
    return TOP + span - ((v - ax.min) / (ax.max - ax.min)) * span;
  };
  const valueOf = (a, y) => {
    const ax = axes[a];
    if (ax.max === ax.min) return ax.min;
    return ax.min + ((TOP + span - y) / span) * (ax.max - ax.min);
  };

  // Lines first, so the axes and brushes are drawn over them.
  const lines = el('g', { class: 'pc-lines' }, svg);
  const c = data.color;
  const paths = runs.map((r) => {
    let d = '';
    let pen = false;
    r.values.forEach((v, a) => {
      if (v == null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${xOf(a).toFixed(1)},${yOf(a, v).toFixed(1)}`;
      pen = true;
    });
    const path = el('path', { d, class: 'pc-line' }, lines);
    let t = 0.5;
    if (c >= 0 && r.values[c] != null && axes[c].max > axes[c].min) {
      t = (r.values[c] - axes[c].min) / (axes[c].max - axes[c].min);
      if (axes[c].better < 0) t = 1 - t;
    }
    path.setAttribute('stroke', colourOf(t));
    const title = el('title', {}, path);
    title.textContent = r.name;
    return path;
  });

  const brushRects = axes.map((ax, a) => {
    const g = el('g', { class: 'pc-axis', 'data-field': ax.field }, svg);
    const x = xOf(a);
    el('line', { x1: x, x2: x, y1: TOP, y2: TOP + span }, g);
    const title = el('text', { x, y: TOP - 26, class: 'pc-title', 'text-anchor': 'middle' }, g);
    title.textContent = ax.title;
    el('title', {}, title).textContent = ax.field;
    if (c === a) {
      const hint = el('text', { x, y: TOP - 12, class: 'pc-hint', 'text-anchor': 'middle' }, g);
      hint.textContent = ax.better ? 'colour: blue the better end' : 'colour: blue the higher end';
    }
    const ticks = ax.numeric
      ? (ax.max === ax.min ? [ax.min] : [ax.min, (ax.min + ax.max) / 2, ax.max]).map((v) => [v, String(Number(v.toPrecision(3)))])
      : ax.values.map((v, i) => [i, v]);
    for (const [v, label] of ticks) {
      const y = yOf(a, v);
      el('line', { x1: x - 4, x2: x, y1: y, y2: y }, g);
      const t = el('text', { x: x - 7, y: y + 4, class: 'pc-tick', 'text-anchor': 'end' }, g);
      t.textContent = label;
    }
    const brush = el('rect', { x: x - 9, width: 18, y: 0, height: 0, class: 'pc-brush' }, g);
    const area = el('rect', { x: x - 14, width: 28, y: TOP - 4, height: span + 8, class: 'pc-area' }, g);
    let from = null;
    area.addEventListener('pointerdown', (ev) => {
      area.setPointerCapture(ev.pointerId);
      from = svgY(ev);
    });
    area.addEventListener('pointermove', (ev) => {
      if (from == null) return;
      const y = svgY(ev);
      showBrush(a, Math.min(from, y), Math.max(from, y));
    });
    area.addEventListener('pointerup', (ev) => {
      if (from == null) return;
      const y = svgY(ev);
      if (Math.abs(y - from) < 3) brushes.delete(a);
      else {
        const [lo, hi] = [valueOf(a, Math.max(from, y)), valueOf(a, Math.min(from, y))];
        brushes.set(a, [lo, hi]);
      }
      from = null;
      update(true);
    });
    return brush;
  });

  function svgY(ev) {
    const box = svg.getBoundingClientRect();
    return Math.min(Math.max(((ev.clientY - box.top) * HEIGHT) / box.height, TOP), TOP + span);
  }

  function showBrush(a, y0, y1) {
    brushRects[a].setAttribute('y', y0);
    brushRects[a].setAttribute('height', Math.max(y1 - y0, 0));
  }

  // The table: each run with its values on the axes.
  const head = document.createElement('tr');
  for (const t of ['name', 'status', ...axes.map((ax) => ax.title)]) {
    const th = document.createElement('th');
    th.textContent = t;
    head.append(th);
  }
  axes.forEach((ax, a) => { head.children[a + 2].title = ax.field; });
  table.tHead.append(head);
  const rows = runs.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.run = r.id;
    const name = document.createElement('td');
    name.className = 'name';
    const link = document.createElement('a');
    link.href = '/runs/' + encodeURIComponent(r.id);
    link.textContent = r.name;
    name.append(link);
    const status = document.createElement('td');
    status.textContent = r.status.toLowerCase();
    tr.append(name, status);
    for (const text of r.text) {
      const td = document.createElement('td');
      td.textContent = text || '–';
      tr.append(td);
    }
    table.tBodies[0].append(tr);
    return tr;
  });

  function update(push) {
    const kept = [];
    runs.forEach((r, i) => {
      const ok = [...brushes].every(([a, [lo, hi]]) => r.values[a] != null && r.values[a] >= lo && r.values[a] <= hi);
      paths[i].classList.toggle('pc-faded', !ok);
      rows[i].hidden = !ok;
      if (ok) kept.push(r.id);
    });
    brushRects.forEach((_, a) => {
      const b = brushes.get(a);
      if (b) showBrush(a, yOf(a, b[1]), yOf(a, b[0]));
      else showBrush(a, 0, 0);
    });
    const more = data.more ? ` (the first ${runs.length} the query selects)` : '';
    count.textContent = `${kept.length} of ${runs.length} runs${more}`;
    root.dataset.kept = String(kept.length);
    const ids = new URLSearchParams();
    kept.slice(0, 50).forEach((id) => ids.append('run', id));
    charts.href = '/charts?' + ids;
    charts.hidden = kept.length === 0;
    if (push) {
      const u = new URL(location.href);
      u.searchParams.delete('brush');
      for (const [a, [lo, hi]] of brushes) u.searchParams.append('brush', `${axes[a].field}:${Number(lo.toPrecision(6))}:${Number(hi.toPrecision(6))}`);
      history.replaceState(null, '', u);
    }
    document.dispatchEvent(new CustomEvent('aelab:brushed', { detail: { ids: kept } }));
  }

  document.getElementById('parallel-clear').addEventListener('click', () => { brushes.clear(); update(true); });
  update(false);
}
