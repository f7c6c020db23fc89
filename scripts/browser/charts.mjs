// The browser test of `aelab ui`'s charts (driven by the Go test TestUIChartsInTheBrowser in
// cmd/aelab, which fills the store and starts the server). Environment:
//   AELAB_UI_URL    the server, e.g. http://127.0.0.1:41234
//   AELAB_UI_SHOTS  folder for screenshots (ui-readout.png, ui-panels.png, ui-grouping.png,
//                   ui-parallel.png)
//   AELAB_UI_RUNS   JSON {name: id} of the runs the test logged: deep-s1…3, vanilla-s1…2, the
//                   <script> one (vanilla, seed 3), "short" (finished after one epoch) and
//                   "classifier" (a program's own run through package track: accuracy, loss)
// Exits non-zero on the first failed check, saying which.
import { launch } from './launch.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.AELAB_UI_URL;
const shots = process.env.AELAB_UI_SHOTS;
const runs = JSON.parse(process.env.AELAB_UI_RUNS);
mkdirSync(shots, { recursive: true });
const EVIL = '<script>alert(1)</script>';
const seeded = Object.entries(runs).filter(([n]) => n !== 'short' && n !== 'classifier');
let step = '';
const log = (msg) => console.log(`charts e2e: ${msg}`);
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}
// fmt is chart.js's: five significant digits.
const fmt = (v) => String(Number(v.toPrecision(5)));
const near = (text, v) => Math.abs(Number(text) - v) <= 1e-4 * Math.max(1, Math.abs(v));

const { context, close } = await launch();
try {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss(); });
  const ids = new URLSearchParams();
  seeded.forEach(([, id]) => ids.append('run', id));

  // The legend rows of a panel: [label, value] each, the x row first.
  const legend = (panel) => page.$$eval(`${panel} .u-legend tr.u-series`, (rows) => rows.map((r) => ({
    label: r.querySelector('.u-label') ? r.querySelector('.u-label').textContent : r.querySelector('th').textContent,
    value: r.querySelector('.u-value').textContent, off: r.classList.contains('u-off'), edge: r.classList.contains('band-edge'),
  })));
  // hoverAt moves the mouse over a panel's plot at x (the x scale spans the data: lo…hi).
  async function hoverAt(panel, x, lo, hi, dy = 0.5) {
    const box = await (await page.$(`${panel} .u-over`)).boundingBox();
    await page.mouse.move(box.x + ((x - lo) / (hi - lo)) * box.width, box.y + box.height * dy);
  }
  const api = (path) => page.evaluate(async (p) => (await fetch(p)).json(), path);

  step = 'readout';
  await page.goto(`${base}/charts?${ids}&key=val_bce`);
  await page.waitForFunction((n) => document.querySelector('#panels .chart-plot').dataset.series === String(n), seeded.length);
  const series = await api(`/api/series?${ids}&key=val_bce`);
  check(series.x === 'epoch', `the val BCE axis is ${series.x}`);
  await hoverAt('#panels .chart-panel', 3, 1, 6);
  await page.waitForFunction(() => document.querySelector('#panels .u-legend tr.u-series .u-value').textContent === '3');
  let rows = await legend('#panels .chart-panel');
  check(rows[0].label === 'epoch' && rows[0].value === '3', `the readout's x: ${JSON.stringify(rows[0])}`);
  check(rows.length === seeded.length + 1, `${rows.length - 1} runs in the readout, want ${seeded.length}`);
  for (const s of series.series) {
    const row = rows.find((r) => r.label === s.name);
    const want = s.y[s.x.indexOf(3)];
    check(row && near(row.value, want), `${s.name} at epoch 3: readout ${row && row.value}, want ${fmt(want)}`);
  }
  check(rows.some((r) => r.label === EVIL), 'the <script> run is named as text in the readout');
  check(await page.$('.u-legend script') === null, 'a <script> element in the legend');
  log(`hover at epoch 3 reads ${rows.slice(1).map((r) => `${r.label}=${r.value}`).join(', ')}`);
  // Highlight: moving down the plot at epoch 1 passes every curve; the nearest is focused.
  const focused = new Set();
  for (let dy = 0.02; dy < 1; dy += 0.04) {
    await hoverAt('#panels .chart-panel', 1, 1, 6, dy);
    focused.add(await page.$eval('#panels .chart-panel', (p) => p.dataset.focused || ''));
  }
  focused.delete('');
  check(focused.size >= 2 && [...focused].every((n) => series.series.some((s) => s.name === n)), `curves highlighted while hovering: ${[...focused]}`);
  await page.screenshot({ path: join(shots, 'ui-readout.png'), clip: await (await page.$('#panels .chart-panel')).boundingBox() });
  // Clicking a legend entry hides that run; clicking again shows it.
  const deep1 = series.series.find((s) => s.name === 'deep-s1');
  await page.click(`#panels .u-legend tr.u-series:has-text("deep-s1") .u-label`);
  rows = await legend('#panels .chart-panel');
  check(rows.find((r) => r.label === 'deep-s1').off, 'deep-s1 is not hidden after a click on its legend entry');
  check(await page.$eval('#panels .chart-panel', (p) => p.dataset.hidden) === deep1.run, 'the panel does not record deep-s1 as hidden');
  await page.click(`#panels .u-legend tr.u-series:has-text("deep-s1") .u-label`);
  check(!(await legend('#panels .chart-panel')).find((r) => r.label === 'deep-s1').off, 'deep-s1 is not shown again after a second click');

  step = 'two panels';
  await page.fill('#metric-search', 'train loss'); // a title, as the list offers it
  await page.press('#metric-search', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#panels .chart-panel').length === 2);
  await page.waitForFunction(() => [...document.querySelectorAll('#panels .chart-plot')].every((p) => Number(p.dataset.points) > 0));
  const keys = await page.$$eval('#panels .chart-key', (ss) => ss.map((s) => s.value));
  check(keys.join() === 'val_bce,train_loss', `the panels show ${keys}`);
  await page.check('#panels .chart-panel:nth-child(2) .chart-log');
  await page.$eval('#panels .chart-panel:nth-child(1) .chart-smooth', (r) => {
    r.value = '0.5';
    r.dispatchEvent(new Event('input'));
    r.dispatchEvent(new Event('change'));
  });
  await page.selectOption('#charts-x', 'step');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('x') === 'step');
  await page.waitForFunction(() => document.querySelector('#panels .u-legend tr.u-series th').textContent.startsWith('step'));
  const shared = page.url();
  const u = new URL(shared);
  check(u.searchParams.getAll('key').join() === 'val_bce,train_loss' && u.searchParams.get('log') === 'train_loss' &&
    u.searchParams.get('smooth') === 'val_bce:0.5', `the URL does not hold the view: ${u.search}`);
  await page.fill('#metric-search', 'no such metric');
  await page.press('#metric-search', 'Enter');
  const msg = await page.textContent('#charts-message');
  check(msg === 'No curve named "no such metric" among these runs: pick one from the list.', `message for an unknown metric: ${msg}`);
  await page.screenshot({ path: join(shots, 'ui-panels.png'), clip: await (await page.$('#panels')).boundingBox() });
  log(`two panels; link ${u.search.length} characters`);

  step = 'shared link';
  const other = await context.newPage();
  other.on('pageerror', (e) => errors.push(e.message));
  await other.goto(shared);
  await other.waitForFunction(() => document.querySelectorAll('#panels .chart-plot[data-series="6"]').length === 2);
  const view = await other.evaluate(() => ({
    keys: [...document.querySelectorAll('#panels .chart-key')].map((s) => s.value),
    log: [...document.querySelectorAll('#panels .chart-log')].map((c) => c.checked),
    smooth: [...document.querySelectorAll('#panels .chart-smooth')].map((r) => r.value),
    x: document.getElementById('charts-x').value,
    axis: document.querySelector('#panels .u-legend tr.u-series th').textContent,
  }));
  check(JSON.stringify(view) === JSON.stringify({ keys: ['val_bce', 'train_loss'], log: [false, true], smooth: ['0.5', '0'], x: 'step', axis: view.axis }) &&
    view.axis.startsWith('step'), `the link reopens ${JSON.stringify(view)}`);
  await other.close();

  step = 'grouping';
  await page.selectOption('#charts-x', 'epoch');
  await page.selectOption('#charts-group', 'params.model');
  await page.waitForFunction(() => document.querySelector('#panels .chart-plot').dataset.bands === '2');
  check(new URL(page.url()).searchParams.get('group') === 'params.model', 'the URL does not keep the grouping');
  const grouped = await api(`/api/series?${ids}&key=val_bce&x=epoch&group=params.model`);
  check(grouped.groups.map((g) => `${g.value}:${g.runs.length}`).join() === 'deep:3,vanilla:3', `groups ${grouped.groups.map((g) => g.value)}`);
  await page.$eval('#panels .chart-panel:nth-child(1) .chart-smooth', (r) => {
    r.value = '0';
    r.dispatchEvent(new Event('input'));
    r.dispatchEvent(new Event('change'));
  });
  await hoverAt('#panels .chart-panel', 2, 1, 6);
  await page.waitForFunction(() => document.querySelector('#panels .u-legend tr.u-series .u-value').textContent === '2');
  rows = (await legend('#panels .chart-panel')).filter((r) => !r.edge);
  for (const g of grouped.groups) {
    const row = rows.find((r) => r.label === `model=${g.value} · ${g.runs.length} runs`);
    const i = g.x.indexOf(2);
    const want = `${fmt(g.mean[i])} (${fmt(g.min[i])}–${fmt(g.max[i])}, n=${g.n[i]})`;
    check(row && row.value === want, `${g.value} at epoch 2: readout ${row && row.value}, want ${want}`);
    check(g.min[i] < g.mean[i] && g.mean[i] < g.max[i], `the ${g.value} band is empty at epoch 2`);
  }
  await page.screenshot({ path: join(shots, 'ui-grouping.png'), clip: await (await page.$('#panels .chart-panel')).boundingBox() });

  step = 'grouping on the compare page';
  await page.goto(`${base}/compare?${ids}`);
  await page.waitForFunction((n) => document.querySelector('.chart-plot').dataset.series === String(n), seeded.length);
  await page.selectOption('.chart-panel .chart-group', 'params.seed');
  await page.waitForFunction(() => document.querySelector('.chart-plot').dataset.bands === '3');
  const seeds = (await legend('.chart-panel')).filter((r) => !r.edge).map((r) => r.label);
  check(seeds.slice(1).join() === 'seed=1 · 2 runs,seed=2 · 2 runs,seed=3 · 2 runs', `grouped by seed: ${seeds}`);
  await page.selectOption('.chart-panel .chart-group', 'config');
  await page.waitForFunction(() => document.querySelector('.chart-plot').dataset.bands === '2');
  const configs = (await legend('.chart-panel')).filter((r) => !r.edge).map((r) => r.label);
  check(configs.slice(1).join() === 'epochs=6, model=deep · 3 runs,epochs=6, model=vanilla · 3 runs', `grouped by config but the seed: ${configs}`);

  step = 'parallel coordinates';
  const q = 'params.model = "deep" or params.model = "vanilla"';
  await page.goto(`${base}/parallel?q=${encodeURIComponent(q)}`);
  await page.waitForFunction(() => document.querySelector('#parallel').dataset.kept === '6');
  const axes = await page.$$eval('.pc-axis', (as) => as.map((a) => a.dataset.field));
  check(axes.includes('params.model') && axes.includes('metrics.val_bce'), `axes ${axes}`);
  check(await page.$$eval('.pc-line', (ls) => ls.length) === 6, 'one line per run');
  await page.evaluate(() => document.addEventListener('aelab:brushed', (ev) => { window.brushed = ev.detail.ids; }));
  // Brush the model axis around "deep" (its bottom value).
  const area = await (await page.$('.pc-axis[data-field="params.model"] .pc-area')).boundingBox();
  const x = area.x + area.width / 2;
  await page.mouse.move(x, area.y + area.height - 2);
  await page.mouse.down();
  await page.mouse.move(x, area.y + area.height - 30, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#parallel').dataset.kept === '3');
  const visible = await page.$$eval('#parallel-table tbody tr:not([hidden])', (trs) => trs.map((tr) => [tr.querySelector('td.name').textContent, tr.dataset.run]));
  check(visible.length === 3 && visible.every(([n]) => n.startsWith('deep-')), `the table after brushing: ${visible.map(([n]) => n)}`);
  const event = await page.evaluate(() => window.brushed);
  check(event && event.slice().sort().join() === visible.map(([, id]) => id).sort().join(), `the aelab:brushed event's ids: ${event}`);
  check((await page.textContent('#parallel-count')).startsWith('3 of 6 runs'), 'the count');
  const brushedURL = page.url();
  check(new URL(brushedURL).searchParams.get('brush').startsWith('params.model:'), `the URL does not keep the brush: ${brushedURL}`);
  await page.screenshot({ path: join(shots, 'ui-parallel.png'), fullPage: true });
  await page.goto(brushedURL);
  await page.waitForFunction(() => document.querySelector('#parallel').dataset.kept === '3');
  await page.click('#parallel-clear');
  await page.waitForFunction(() => document.querySelector('#parallel').dataset.kept === '6');
  log('brushing params.model around "deep" keeps the 3 deep runs');

  step = 'a finished run with one value';
  const streams = [];
  page.on('request', (r) => { if (r.url().includes('/api/events')) streams.push(r.url()); });
  for (const path of [`/runs/${runs.short}`, `/charts?run=${runs.short}`]) {
    await page.goto(base + path);
    await page.waitForSelector('.chart-plot canvas');
    await page.waitForTimeout(800);
    const status = await page.textContent('.chart-panel .chart-status');
    check(!status.startsWith('live'), `${path}: the chart says "${status}"`);
    const label = await page.$eval('.chart-panel .chart-key', (s) => s.selectedOptions[0].textContent);
    check(label === 'val BCE (val_bce)', `${path}: the metric is offered as "${label}"`);
  }
  check(streams.length === 0, `event streams opened for a finished run: ${streams}`);

  step = 'a run that is not an aelab model';
  // Its run page offers the metrics it logged and draws their curve.
  await page.goto(`${base}/runs/${runs.classifier}`);
  await page.waitForSelector('.chart-plot canvas');
  const offered = await page.$$eval('.chart-panel .chart-key option', (os) => os.map((o) => o.value));
  check(offered.includes('accuracy') && offered.includes('loss'), `its metrics are not offered: ${offered}`);
  await page.goto(`${base}/charts?run=${runs.classifier}&key=accuracy`);
  await page.waitForFunction(() => Number(document.querySelector('#panels .chart-plot').dataset.points) > 0);
  const points = await page.$eval('#panels .chart-plot', (p) => Number(p.dataset.points));
  check(points === 8, `its accuracy curve has ${points} points, not 8`);
  log('a program\'s own run: its accuracy curve has its 8 points');

  step = 'dark theme';
  // The system's dark theme: the axes' labels are drawn in the page's light text colour.
  const dark = await context.newPage();
  dark.on('pageerror', (e) => errors.push(e.message));
  await dark.emulateMedia({ colorScheme: 'dark' });
  await dark.goto(`${base}/charts?${ids}&key=val_bce`);
  await dark.waitForFunction(() => Number(document.querySelector('#panels .chart-plot').dataset.points) > 0);
  // Only the y axis's strip left of the plotting area: its tick labels and title.
  const bright = await dark.$eval('#panels .chart-plot', (plot) => {
    const c = plot.querySelector('canvas');
    const left = Math.floor(plot.querySelector('.u-over').offsetLeft * (c.width / c.clientWidth));
    const px = c.getContext('2d').getImageData(0, 0, left, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 200 && px[i] > 180 && px[i + 1] > 180 && px[i + 2] > 180) n++;
    return n;
  });
  check(bright > 50, `the axes are not drawn in the dark theme's text colour (${bright} light pixels)`);
  await dark.close();

  check(errors.length === 0, `errors in the browser console: ${errors.join(' | ')}`);
  log('ok');
} finally {
  await close();
}
