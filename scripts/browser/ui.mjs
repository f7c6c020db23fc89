// The end-to-end test of `aelab ui` in Debian's Chromium (driven by the Go test
// TestUIInTheBrowser in cmd/aelab, which fills the store with real trainings and starts the
// server). Environment:
//   AELAB_UI_URL    the server, e.g. http://127.0.0.1:41234
//   AELAB_UI_SHOTS  folder for screenshots
//   AELAB_UI_TRAIN  JSON {cmd, args, env}: starts a real training named "live-e2e" into the store
//   AELAB_UI_TRAIN_EPOCHS  its epochs
// Exits non-zero on the first failed check, saying which.
import { launch } from './launch.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.AELAB_UI_URL;
const shots = process.env.AELAB_UI_SHOTS;
const train = JSON.parse(process.env.AELAB_UI_TRAIN);
mkdirSync(shots, { recursive: true });

const EVIL = '<script>alert(1)</script>';
const EPOCHS = Number(process.env.AELAB_UI_TRAIN_EPOCHS); // of the live training
const PALETTE = ['#1f77b4', '#d62728'];
let step = '';
const log = (msg) => console.log(`ui e2e: ${msg}`);
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}

const { context, close } = await launch();
let trainer = null;
try {
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const shot = (name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
  const rowNames = () => page.$$eval('table.runs tbody td.name a', (as) => as.map((a) => a.textContent));

  step = 'runs page';
  await page.goto(base + '/');
  await page.waitForSelector('table.runs tbody tr[data-run]');
  const all = await rowNames();
  check(all.length === 3, `3 runs listed, got ${JSON.stringify(all)}`);
  check(all.includes(EVIL), `the <script> run is listed by its name as text, got ${JSON.stringify(all)}`);
  check(await page.$('table.runs script') === null, 'a <script> element inside the table');
  await shot('runs');

  step = 'sort and columns';
  await page.click('th.sortable a[title="metrics.val_bce"]');
  await page.waitForSelector('th.sortable.asc a[title="metrics.val_bce"]');
  const bce = await page.$$eval('table.runs tbody tr[data-run]', (rows) => rows.map((r) => Number(r.cells[8].title.split(' ')[0])));
  check(bce.length === 3 && bce.every((v, i) => i === 0 || bce[i - 1] <= v), `val_bce ascending: ${bce}`);
  await page.click('#columns summary');
  await page.check('#columns input[value="tags.section"]');
  await page.waitForSelector('th a[title="tags.section"]');
  const sections = await page.$$eval('table.runs tbody tr[data-run]', (rows) => rows.map((r) => r.cells[r.cells.length - 1].textContent));
  check(sections.sort().join(',') === '1.2,1.3,1.4', `the section column: ${sections}`);
  await page.click('#columns summary');

  step = 'query';
  await page.fill('#q', 'params.model = "denoise" or params.model = "vanilla"');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr[data-run]').length === 2);
  const two = await rowNames();
  check(two.every((n) => n === 'denoise' || n === 'vanilla'), `only the matching runs, got ${JSON.stringify(two)}`);
  check(new URL(page.url()).searchParams.get('q') !== null, 'the URL keeps the query');
  await page.fill('#q', 'params.model = "denoise"');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr[data-run]').length === 1);
  check((await rowNames())[0] === 'denoise', 'the denoise run alone');

  step = 'bad query';
  const bad = 'params.model = "deep" and metrics.val_bce < and';
  await page.fill('#q', bad);
  await page.press('#q', 'Enter');
  await page.waitForSelector('.query-error .caret');
  // The caret sits under the bad token: measure both on screen.
  const caret = await page.evaluate(() => {
    const box = document.querySelector('.query-error');
    const col = Number(box.dataset.column);
    const q = document.querySelector('.caret-query').firstChild;
    const c = document.querySelector('.caret').firstChild;
    const at = (node, i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect().left; };
    return { col, bad: at(q, col - 1), caret: at(c, c.length - 1), char: q.data[col - 1] };
  });
  check(caret.col === bad.lastIndexOf('and') + 1 && caret.char === 'a', `error column ${caret.col} (${caret.char})`);
  check(Math.abs(caret.bad - caret.caret) < 1.5, `caret at x=${caret.caret}, the bad token at x=${caret.bad}`);
  check(await page.$$eval('table.runs tbody tr[data-run]', (r) => r.length) === 0, 'no runs shown for a bad query');
  await shot('query-error');
  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr[data-run]').length === 3);

  step = 'compare';
  for (const name of ['vanilla', 'denoise']) {
    await page.locator('table.runs tbody tr', { has: page.locator(`td.name a:text-is("${name}")`) }).locator('input.select-run').check();
  }
  await page.waitForFunction(() => document.getElementById('selection-count').textContent === '2 runs selected');
  await page.click('#selection-bar a[data-go="compare"]');
  await page.waitForSelector('.chart-plot canvas');
  await page.waitForFunction(() => document.querySelector('.chart-plot').dataset.series === '2');
  // Two curves: pixels of each series' colour on the canvas.
  const inked = await page.evaluate((palette) => {
    const canvas = document.querySelector('.chart-plot canvas');
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    return palette.map((hex) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      let n = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] > 200 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 60) n++;
      }
      return n;
    });
  }, PALETTE);
  check(inked.every((n) => n >= 40), `pixels of the two curves' colours: ${inked}`);
  check(await page.$$eval('table.compare tr.differs', (r) => r.length) > 0, 'differing params highlighted');
  await shot('compare');

  step = 'denoising run page';
  await page.goto(base + '/');
  await page.click('table.runs td.name a:text-is("denoise")');
  await page.waitForFunction(() => { const i = document.querySelector('img.recon-grid'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 120000 });
  const rows = await page.$eval('img.recon-grid', (i) => i.naturalHeight);
  check(rows > 3 * 84, `a clean / noisy / denoised grid has three rows, got ${rows} px`);
  await page.waitForFunction(() => Number(document.querySelector('.chart-plot').dataset.points) > 0);
  await page.screenshot({ path: join(shots, 'run-denoise.png') }); // the window: the README's picture

  step = 'run page';
  await page.goto(base + '/');
  await page.click('table.runs td.name a:text-is("vanilla")');
  await page.waitForSelector('img.recon-grid');
  await page.waitForFunction(() => { const i = document.querySelector('img.recon-grid'); return i.complete && i.naturalWidth > 0; }, null, { timeout: 120000 });
  const grid = await page.$eval('img.recon-grid', (i) => [i.naturalWidth, i.naturalHeight]);
  check(grid[0] > 600 && grid[1] > 150, `reconstruction grid ${grid}`);
  await page.waitForFunction(() => Number(document.querySelector('.chart-plot').dataset.points) > 0);
  await shot('run');

  step = 'tag';
  await page.fill('.tag-form input[name=key]', 'e2e-note');
  await page.fill('.tag-form input[name=value]', 'kept after a reload');
  await Promise.all([page.waitForNavigation(), page.click('.tag-form button')]);
  await page.reload();
  const tags = await page.$$eval('table.tags tr', (rows) => rows.map((r) => r.querySelector('th').textContent + '=' + r.querySelector('td').textContent));
  check(tags.includes('e2e-note=kept after a reload'), `tags after reload: ${JSON.stringify(tags)}`);

  step = 'the <script> run';
  await page.goto(base + '/');
  await page.click(`table.runs td.name a >> text="${EVIL}"`);
  await page.waitForSelector('.run-name');
  check(await page.$eval('.run-name', (e) => e.textContent) === EVIL, 'the run name shown as text');
  await page.goto(base + '/charts');
  await page.waitForFunction(() => document.querySelectorAll('.chart-legend li').length === 3);
  check((await page.$$eval('.chart-legend a', (as) => as.map((a) => a.textContent))).includes(EVIL), 'the legend shows the name as text');
  check(dialogs.length === 0, `a script ran: dialogs ${JSON.stringify(dialogs)}`);
  await shot('charts');

  step = 'live training';
  await page.goto(base + '/');
  await page.waitForSelector('table.runs tbody tr[data-run]');
  await page.evaluate(() => { window.e2eMarker = 'no reload'; });
  trainer = spawn(train.cmd, train.args, { env: { ...process.env, ...train.env }, stdio: ['ignore', 'inherit', 'inherit'] });
  // Pause the training as soon as its run exists, so the page sees it before its epochs.
  let id = null;
  for (let i = 0; i < 1200 && !id; i++) {
    const res = await fetch(base + '/api/runs?q=' + encodeURIComponent('attributes.name = "live-e2e"'));
    const runs = (await res.json()).runs || [];
    if (runs.length) id = runs[0].id;
    else await new Promise((r) => setTimeout(r, 50));
  }
  check(id, 'the training never started a run');
  trainer.kill('SIGSTOP');
  log(`training ${id.slice(0, 8)} paused`);
  await page.waitForSelector('table.runs td.name a:text-is("live-e2e")', { timeout: 30000 });
  check(await page.evaluate(() => window.e2eMarker) === 'no reload', 'the runs page reloaded');
  check(await page.$eval('tr[data-run="' + id + '"] .badge', (b) => b.textContent) === 'RUNNING', 'the new run shows RUNNING');
  await page.click('table.runs td.name a:text-is("live-e2e")');
  await page.waitForSelector('.chart-plot');
  await page.waitForFunction(() => document.querySelector('.chart-status').textContent.startsWith('live'));
  await page.evaluate(() => { window.e2eMarker = 'no reload'; });
  const before = Number(await page.$eval('.chart-plot', (e) => e.dataset.points));
  // Let it train, and pause it again after its first epoch(s): the page must show them while
  // the run is RUNNING, then the rest once it goes on.
  const key = await page.$eval('.chart-key', (s) => s.value);
  const logged = async () => (await (await fetch(`${base}/api/series?key=${key}&run=${id}`)).json()).series[0].total;
  trainer.kill('SIGCONT');
  let mid = 0;
  for (let i = 0; i < 4800 && mid === 0; i++) {
    mid = await logged();
    if (mid === 0) await new Promise((r) => setTimeout(r, 25));
  }
  trainer.kill('SIGSTOP');
  mid = await logged();
  check(mid > before && mid < EPOCHS, `paused after ${mid} of ${EPOCHS} epochs`);
  await page.waitForFunction((n) => Number(document.querySelector('.chart-plot').dataset.points) === n, mid, { timeout: 30000 });
  check(await page.$eval('.run-head .badge', (b) => b.textContent) === 'RUNNING', 'the run shows RUNNING mid-way');
  await shot('live');
  trainer.kill('SIGCONT');
  await page.waitForFunction(() => document.querySelector('.run-head .badge').textContent === 'FINISHED', null, { timeout: 180000 });
  await page.waitForFunction((n) => Number(document.querySelector('.chart-plot').dataset.points) === n, EPOCHS, { timeout: 30000 });
  await page.waitForFunction(() => { const i = document.querySelector('img.recon-grid'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 120000 });
  check(await page.evaluate(() => window.e2eMarker) === 'no reload', 'the run page reloaded');
  log(`curve grew live: ${before} → ${mid} → ${EPOCHS} points, FINISHED, reconstructions shown, no reload`);
  await shot('live-finished');

  check(errors.length === 0, `browser errors: ${JSON.stringify(errors)}`);
  log('ok');
} catch (e) {
  console.error(`ui e2e: FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  if (trainer && trainer.exitCode === null) { trainer.kill('SIGCONT'); trainer.kill('SIGTERM'); }
  await close();
}
