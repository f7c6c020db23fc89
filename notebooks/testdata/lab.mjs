// Drives `make lab` as a user meets it (used by TestLabInBrowser): opens a notebook in the
// Jupyter Notebook UI served at LAB_URL, runs all cells (Cell → Run All), samples the output
// area every 250 ms while the cells run, takes screenshots into LAB_SHOTS, and prints one JSON
// report on stdout. The Go test makes the assertions.
//
//   LAB_URL=http://127.0.0.1:PORT/notebooks/02_vanilla.ipynb?token=T LAB_SHOTS=build/lab \
//   LAB_TIMEOUT_MS=900000 node notebooks/testdata/lab.mjs
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../../scripts/browser/launch.mjs';

const url = process.env.LAB_URL;
const shots = process.env.LAB_SHOTS || 'build/lab';
const timeout = Number(process.env.LAB_TIMEOUT_MS || 900000);
if (!url) {
  console.error('lab.mjs: set LAB_URL');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const report = { samples: [], cells: [], midrunShot: '', finalShot: '', tooltipFor: '', tooltip: '', timedOut: false, seconds: 0 };
const { context, close } = await launch();
try {
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  await page.goto(url);
  // The notebook is loaded and its kernel (GoNB) connected and idle.
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected() && document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));
  await page.screenshot({ path: join(shots, 'opened.png') });

  const start = Date.now();
  await page.click('#celllink');          // the Cell menu
  await page.click('#run_all_cells > a'); // Run All

  // Sample: each code cell's prompt, and each live view's draw count and progress text.
  const sample = () => page.evaluate(() => [...document.querySelectorAll('.cell.code_cell')].map((c) => ({
    prompt: (c.querySelector('.input_prompt') || {}).textContent || '',
    live: [...c.querySelectorAll('.aelab-live')].map((e) => Number(e.dataset.draws)),
    progress: [...c.querySelectorAll('.aelab-progress')].map((e) => e.textContent.trim()),
  })));
  let idleSince = 0;
  for (;;) {
    const cells = await sample();
    const t = (Date.now() - start) / 1000;
    report.samples.push({ t, cells });
    const running = cells.findIndex((c) => c.prompt.includes('*'));
    const live = running >= 0 ? cells[running].live : [];
    if (!report.midrunShot && live.length > 0 && live[0] >= 3) {
      // A training cell mid-run, two epochs drawn (draw 1 holds the chart's place): for docs/.
      const cell = page.locator('.cell.code_cell').nth(running);
      await cell.scrollIntoViewIfNeeded();
      report.midrunShot = join(shots, 'training-midrun.png');
      await cell.screenshot({ path: report.midrunShot });
    }
    const numbered = cells.every((c) => /\[\d+\]/.test(c.prompt));
    if (running < 0 && numbered) break;
    // Run All stops at a failing cell: the rest stay unnumbered, the kernel idle.
    const idle = await page.$('#kernel_indicator_icon.kernel_idle_icon');
    idleSince = running < 0 && idle ? idleSince || Date.now() : 0;
    if (idleSince && Date.now() - idleSince > 5000) break;
    if (Date.now() - start > timeout) {
      report.timedOut = true;
      break;
    }
    await page.waitForTimeout(250);
  }
  report.seconds = (Date.now() - start) / 1000;

  report.cells = await page.evaluate(() => [...document.querySelectorAll('.cell.code_cell')].map((c) => ({
    prompt: ((c.querySelector('.input_prompt') || {}).textContent || '').trim(),
    errors: [...c.querySelectorAll('.output_error')].map((e) => e.textContent.slice(0, 600)),
    stderr: [...c.querySelectorAll('.output_stderr')].map((e) => e.textContent.slice(0, 600)),
    images: [...c.querySelectorAll('.output_area img')].filter((i) => i.complete && i.naturalWidth > 0).length,
    live: [...c.querySelectorAll('.aelab-live')].map((e) => Number(e.dataset.draws)),
    height: c.querySelector('.output_wrapper') ? c.querySelector('.output_wrapper').getBoundingClientRect().height : 0,
    text: c.querySelector('.output_area') ? c.querySelector('.output_wrapper').innerText.slice(0, 2000) : '',
  })));
  report.finalShot = join(shots, 'final.png');
  await page.screenshot({ path: report.finalShot, fullPage: true });

  // Shift+Tab on the first aelab identifier (`aelib.Name`) of a code cell: gopls' help.
  const at = await page.evaluate(() => {
    const cells = Jupyter.notebook.get_cells();
    for (let i = 0; i < cells.length; i++) {
      if (cells[i].cell_type !== 'code') continue;
      const lines = cells[i].get_text().split('\n');
      for (let l = 0; l < lines.length; l++) {
        const m = /aelib\.([A-Z]\w*)/.exec(lines[l]);
        if (m) return { cell: i, line: l, ch: m.index + m[0].length - 1, name: m[0] };
      }
    }
    return null;
  });
  if (at) {
    report.tooltipFor = at.name;
    await page.evaluate((at) => {
      Jupyter.notebook.select(at.cell);
      Jupyter.notebook.edit_mode();
      const cm = Jupyter.notebook.get_cell(at.cell).code_mirror;
      cm.focus();
      cm.setCursor({ line: at.line, ch: at.ch });
    }, at);
    await page.keyboard.press('Shift+Tab');
    try {
      await page.waitForFunction(() => {
        const t = document.querySelector('#tooltip');
        return t && t.offsetParent !== null && t.innerText.trim().length > 0;
      }, null, { timeout: 60000 });
    } catch { /* reported empty */ }
    report.tooltip = await page.evaluate(() => (document.querySelector('#tooltip') || {}).innerText || '');
    await page.screenshot({ path: join(shots, 'tooltip.png') });
  }
} finally {
  await close();
}
console.log(JSON.stringify(report));
