// The browser test of the runs table and the run page of `aelab ui` (driven by the Go test
// TestUITableInTheBrowser in cmd/aelab, which fills the store and starts the server).
// Environment:
//   AELAB_UI_URL        the server, e.g. http://127.0.0.1:41234
//   AELAB_UI_SHOTS      folder for the screenshots
//   AELAB_UI_DOWNLOADS  folder for downloads
//   AELAB_UI_RECORD     a run with a PNG and a JSON artifact
//   AELAB_UI_MIDRUN     a RUNNING run in its second epoch, validated for the first only
// Exits non-zero on the first failed check, saying which.
import { launch } from './launch.mjs';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.AELAB_UI_URL;
const shots = process.env.AELAB_UI_SHOTS;
const downloads = process.env.AELAB_UI_DOWNLOADS;
mkdirSync(shots, { recursive: true });
let step = '';
const log = (msg) => console.log(`table e2e: ${msg}`);
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}

const { context, close } = await launch();
try {
  const errors = [];
  const dialogs = [];
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('dialog', (d) => { dialogs.push(d.message()); d.type() === 'confirm' ? d.accept() : d.dismiss(); });
    return page;
  };
  const page = watch(await context.newPage());
  await page.setViewportSize({ width: 1400, height: 900 });
  const rows = () => page.$$eval('table.runs tbody tr[data-run]:not([hidden])', (rs) => rs.map((r) => r.dataset.run));
  const api = (q) => page.evaluate(async (q) => (await fetch('/api/runs?' + q)).json(), q);
  const tableLoaded = (pred) => page.waitForFunction(pred, null, { timeout: 10000 });

  step = 'metric titles';
  await page.goto(base + '/');
  await page.waitForSelector('table.runs tbody tr[data-run]');
  const head = await page.$eval('th a[title="metrics.val_bce"]', (a) => a.textContent);
  check(head === 'val BCE', `the val_bce column is titled ${JSON.stringify(head)}, want "val BCE" (the key on hover)`);

  step = 'underscore in the query box';
  // The box holding metrics.val_bce and metrics.val bce: if the underscore is cut off, both
  // look the same. Then the same for the placeholder.
  const box = await page.$('#q');
  const look = async (value) => {
    await box.fill(value);
    await page.mouse.click(5, 890); // focus away: no caret in the shot
    return box.screenshot();
  };
  check(!(await look('metrics.val_bce')).equals(await look('metrics.val bce')), 'the underscore in the query box draws nothing');
  await box.fill('');
  const placeholder = await box.evaluate((q) => q.placeholder);
  const hint = async (text) => {
    await box.evaluate((q, t) => { q.placeholder = t; }, text);
    return box.screenshot();
  };
  check(!(await hint('metrics.val_bce')).equals(await hint('metrics.val bce')), 'the underscore in the placeholder draws nothing');
  await box.evaluate((q, p) => { q.placeholder = p; }, placeholder);

  step = 'wide table at 1400 px';
  await page.click('#columns summary');
  for (const col of ['params.lr', 'params.seed', 'params.optimizer_description', 'tags.section', 'metrics.val_mse', 'metrics.val_mae', 'metrics.train_loss', 'metrics.epoch_seconds']) {
    await page.check(`#columns input[value="${col}"]`);
    await page.waitForSelector(`th a[title="${col}"]`);
  }
  await page.click('#columns summary');
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth,
    table: document.querySelector('table.runs').scrollWidth, wrap: document.querySelector('.table-wrap').clientWidth }));
  check(widths.table > widths.wrap, `the table is not wider than its box (${JSON.stringify(widths)}): nothing to test`);
  check(widths.page <= widths.window, `the page overflows sideways: ${JSON.stringify(widths)}`);
  const pinned = await page.evaluate(() => {
    const wrap = document.querySelector('.table-wrap');
    wrap.scrollLeft = wrap.scrollWidth;
    const cell = document.querySelector('table.runs tbody td.name');
    return { wrap: wrap.getBoundingClientRect().left, cell: cell.getBoundingClientRect().left, scrolled: wrap.scrollLeft };
  });
  check(pinned.scrolled > 0 && Math.abs(pinned.cell - pinned.wrap) < 2, `the name column is not pinned: ${JSON.stringify(pinned)}`);
  await page.evaluate(() => { document.querySelector('.table-wrap').scrollLeft = 0; });

  step = 'columns remembered';
  const chosen = new URL(page.url()).searchParams.getAll('col');
  check(chosen.includes('params.optimizer_description'), `the URL keeps the columns: ${page.url()}`);
  const other = watch(await context.newPage());
  await other.goto(base + '/');
  await other.waitForSelector('th a[title="params.optimizer_description"]');
  check(new URL(other.url()).searchParams.getAll('col').join() === chosen.join(), `a new page at / shows the columns chosen last: ${other.url()}`);
  await other.close();
  // Back to fewer columns for what follows.
  await page.goto(base + '/?cols=1&col=params.model&col=params.seed&col=metrics.val_bce&col=metrics.test_mse');
  await page.waitForSelector('th a[title="metrics.test_mse"]');
  await page.click('#columns summary');
  await page.check('#columns input[value="params.lr"]'); // a choice by the user: remembered
  await page.waitForSelector('th a[title="params.lr"]');
  await page.click('#columns summary');

  step = 'keyboard';
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id) === 'q', '/ does not focus the query');
  await page.keyboard.press('Escape');
  check(await page.evaluate(() => document.activeElement.id) !== 'q', 'Esc leaves the query');
  const ids = await rows();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  const cur = await page.$eval('table.runs tr.current', (r) => r.dataset.run);
  check(cur === ids[1], `j j j k: row ${ids.indexOf(cur)} is current, want 1`);
  await Promise.all([page.waitForURL(`**/runs/${ids[1]}`), page.keyboard.press('Enter')]);
  await page.goBack();
  await page.waitForSelector('table.runs tbody tr[data-run]');
  await page.keyboard.press('?');
  check(await page.$eval('#shortcuts', (d) => d.open), '? does not list the shortcuts');
  await page.keyboard.press('Escape');
  check(!(await page.$eval('#shortcuts', (d) => d.open)), 'Esc does not close the shortcuts');

  step = 'query with underscores';
  await page.fill('#q', 'metrics.val_bce < 0.1');
  await page.press('#q', 'Enter');
  await tableLoaded(() => new URL(location.href).searchParams.get('q') === 'metrics.val_bce < 0.1');
  const lowIDs = await rows();
  const low = await api('q=' + encodeURIComponent('metrics.val_bce < 0.1') + '&limit=500');
  check(low.total === lowIDs.length && low.total > 0, `the query shows ${lowIDs.length} runs, the API counts ${low.total}`);

  step = 'CSV download';
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const file = join(downloads, 'runs.csv');
  await download.saveAs(file);
  const csv = readFileSync(file, 'utf8').trim().split('\n');
  const header = csv[0].split(',');
  const shown = await page.$$eval('table.runs thead th.num-head a', (as) => as.map((a) => a.title));
  check(header.slice(6).join() === shown.join() && shown.length === 5, `CSV columns ${header.slice(6)}, the table shows ${shown}`);
  const csvIDs = csv.slice(1).map((l) => l.split(',')[0]);
  check(csvIDs.join() === low.runs.map((r) => r.id).join(), `the CSV rows are not the query's runs: ${csvIDs.length} vs ${low.total}`);
  const bceAt = header.indexOf('metrics.val_bce');
  check(csv.slice(1).every((l) => Number(l.split(',')[bceAt]) < 0.1), 'a CSV row breaks the query');

  step = 'grouping';
  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await tableLoaded(() => !new URL(location.href).searchParams.has('q'));
  await page.selectOption('#group', 'params.model');
  await page.waitForSelector('tbody.group');
  // A group row's cells: select, count, the value (over four columns), then the columns.
  const bceCol = await page.$$eval('table.runs thead th', (hs) => hs.findIndex((h) => h.querySelector('a[title="metrics.val_bce"]')));
  const groups = await page.$$eval('tbody.group', (gs, at) => gs.map((g) => ({
    value: g.querySelector('.group-value')?.textContent, count: parseInt(g.querySelector('.group-count').textContent, 10),
    bce: g.querySelector('tr.group-row').cells[at - 3].textContent, members: g.querySelectorAll('tr[data-run]').length })), bceCol);
  check(groups.length === 3 && groups.every((g) => g.count === 13 || g.count === 12), `groups by model: ${JSON.stringify(groups)}`);
  const deep = await api('q=' + encodeURIComponent('params.model = "deep"') + '&col=metrics.val_bce&limit=500');
  const vals = deep.runs.map((r) => r.metrics.val_bce.value);
  const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
  const deepRow = groups.find((g) => g.value === 'deep');
  check(deepRow && deepRow.bce.startsWith(mean.toFixed(4)) && deepRow.bce.includes(`${Math.min(...vals).toFixed(4)}–${Math.max(...vals).toFixed(4)}`),
    `the deep group's val BCE ${JSON.stringify(deepRow?.bce)}: want mean ${mean.toFixed(4)}, ${Math.min(...vals).toFixed(4)}–${Math.max(...vals).toFixed(4)}`);
  check(await page.$$eval('tbody.group tr[data-run]:not([hidden])', (r) => r.length) === 0, 'members shown before the group is opened');
  await page.click('tbody.group:nth-of-type(2) .group-toggle');
  const open = await page.$$eval('tbody.group:nth-of-type(2) tr[data-run]:not([hidden])', (r) => r.length);
  check(open === groups[0].count || open > 0, `an opened group shows ${open} runs`);
  await page.screenshot({ path: join(shots, 'ui-groups.png') });

  step = 'shared link';
  await page.click('th a[title="metrics.val_bce"]');
  await tableLoaded(() => new URL(location.href).searchParams.get('order') === 'metrics.val_bce asc');
  const link = page.url();
  const before = await page.$eval('#runs-table', (b) => b.querySelector('table.runs').innerText);
  const fresh = watch(await context.newPage());
  await fresh.setViewportSize({ width: 1400, height: 900 });
  await fresh.goto(link);
  await fresh.waitForSelector('tbody.group');
  const after = await fresh.$eval('#runs-table', (b) => b.querySelector('table.runs').innerText);
  // The first page has the second group open; the fresh one has them closed: compare group rows.
  const groupRows = (text) => text.split('\n').filter((l) => l.includes('params.model =')).map((l) => l.replace(/^[▸▾]\s*/, ''));
  check(groupRows(before).join('|') === groupRows(after).join('|') && groupRows(after).length === 3, `the link reopens another view:\n${groupRows(before)}\n${groupRows(after)}`);
  check(await fresh.$eval('#group', (s) => s.value) === 'params.model', 'the link lost the grouping');
  check(await fresh.$eval('th.sortable.asc a', (a) => a.title) === 'metrics.val_bce', 'the link lost the sort');
  await fresh.close();

  step = 'bulk tag and delete';
  await page.selectOption('#group', '');
  await tableLoaded(() => !new URL(location.href).searchParams.has('group'));
  await page.waitForSelector('table.runs:not(.grouped) tbody tr[data-run]');
  const pick = (await rows()).slice(0, 2);
  for (const id of pick) await page.check(`input.select-run[value="${id}"]`);
  await page.fill('#bulk input[name=key]', 'reviewed');
  await page.fill('#bulk input[name=value]', 'yes');
  await page.click('#bulk button[value=tag]');
  await page.waitForFunction(() => document.getElementById('bulk-status').textContent === 'tagged 2 runs');
  const tagged = await api('q=' + encodeURIComponent('tags.reviewed = "yes"'));
  check(tagged.runs.map((r) => r.id).sort().join() === [...pick].sort().join(), `tagged ${JSON.stringify(tagged.runs.map((r) => r.id))}`);
  const total = (await api('')).total;
  await page.click('#bulk button[value=delete]');
  await page.waitForFunction(() => document.getElementById('bulk-status').textContent === 'deleted 2 runs');
  check(dialogs.length === 1 && dialogs[0].startsWith('Delete 2 runs?'), `the delete asks first: ${JSON.stringify(dialogs)}`);
  check((await api('')).total === total - 2, 'the two runs are not deleted');
  await tableLoaded((t) => !document.querySelector(`tr[data-run="${t}"]`), pick[0]).catch(() => {});
  check(!(await rows()).includes(pick[0]), 'a deleted run is still in the table');

  step = 'run page as a record';
  const rec = process.env.AELAB_UI_RECORD;
  await page.goto(`${base}/runs/${rec}`);
  await page.click('details.rename summary');
  await page.fill('details.rename input[name=name]', 'record <b>renamed</b>');
  await Promise.all([page.waitForURL(`**/runs/${rec}`), page.click('details.rename button')]);
  check(await page.$eval('.run-name', (e) => e.textContent) === 'record <b>renamed</b>', 'the new name is not shown as text');
  await page.fill('.notes-form textarea', '# Why\nThe **deep** model with `lr=0.001`.\n\n- <script>alert(1)</script>\n- <img src=x onerror=alert(1)>');
  await Promise.all([page.waitForURL(`**/runs/${rec}`), page.click('.notes-form button')]);
  check(await page.$eval('.notes-text h3', (e) => e.textContent) === 'Why', 'the notes heading');
  check(await page.$eval('.notes-text strong', (e) => e.textContent) === 'deep', 'the notes bold text');
  check(await page.$('.notes-text script, .notes-text img') === null, 'the notes hold a script or an image');
  check((await page.$eval('.notes-text', (e) => e.textContent)).includes('<script>alert(1)</script>'), 'the notes do not show the <script> as text');
  const img = await page.$eval('img.preview-image', (i) => ({ w: i.naturalWidth, h: i.naturalHeight }));
  check(img.w === 56 && img.h === 28, `the image preview: ${JSON.stringify(img)}`);
  const json = await page.$eval('pre.preview-json', (p) => p.textContent);
  check(json.includes('\n  "val_bce": 0.0912,') && json.includes('<img src=x onerror=alert(1)>'), `the JSON preview: ${json}`);
  check(await page.$$eval('.file .size', (s) => s.every((e) => /\d B|KB/.test(e.textContent))), 'artifact sizes');
  await page.screenshot({ path: join(shots, 'ui-run-record.png') });
  await (await page.$('section[data-live-part=artifacts]')).screenshot({ path: join(shots, 'ui-artifact-previews.png') });

  step = 'epochs of a run mid-way';
  await page.goto(`${base}/runs/${process.env.AELAB_UI_MIDRUN}`);
  const epochs = await page.$$eval('table.epochs tbody tr', (rs) => rs.map((r) => r.cells[0].textContent));
  check(epochs.join() === '1', `epoch rows ${JSON.stringify(epochs)}: want epoch 1 alone (epoch 2 has no validation yet)`);
  const heads = await page.$$eval('table.epochs thead th', (hs) => hs.map((h) => h.textContent));
  check(heads.includes('val BCE') && heads.includes('CPU'), `epoch table heads ${heads}`);

  step = 'dark theme';
  const night = watch(await context.newPage());
  await night.emulateMedia({ colorScheme: 'dark' });
  await night.setViewportSize({ width: 1400, height: 900 });
  await night.goto(base + '/?group=params.model');
  await night.evaluate(() => localStorage.removeItem('aelab.theme'));
  await night.reload();
  await night.waitForSelector('tbody.group');
  const bg = () => night.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(await bg() === 'rgb(20, 23, 28)', `dark system, background ${await bg()}`);
  await night.click('tbody.group .group-toggle');
  await night.screenshot({ path: join(shots, 'ui-table-dark.png') });
  await night.keyboard.press('t');
  check(await bg() === 'rgb(255, 255, 255)', `after t, background ${await bg()}`);
  await night.reload();
  await night.waitForSelector('tbody.group');
  check(await bg() === 'rgb(255, 255, 255)', 'the light choice is not kept');
  await night.click('#theme-toggle');
  check(await bg() === 'rgb(20, 23, 28)', 'the toggle does not switch back to dark');
  await night.close();

  step = 'no errors';
  check(errors.length === 0, `console or page errors: ${JSON.stringify(errors)}`);
  log('all checks passed');
} catch (e) {
  console.error(`table e2e FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await close();
}
