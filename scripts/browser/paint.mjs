// For the web UI's first-paint benchmark (BenchmarkRunsPageFirstPaint in web/): reads one URL a
// line on stdin, loads it in a fresh page of Debian's Chromium and answers one JSON line:
// {"fcp": first contentful paint in ms, "load": the load event in ms, "rows": table rows}.
import { launch } from './launch.mjs';
import { createInterface } from 'node:readline';

const { context, close } = await launch();
for await (const url of createInterface({ input: process.stdin })) {
  const page = await context.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    const answer = await page.evaluate(() => {
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const nav = performance.getEntriesByType('navigation')[0];
      return { fcp: paint ? paint.startTime : -1, load: nav.loadEventStart, rows: document.querySelectorAll('table.runs tbody tr[data-run]').length };
    });
    console.log(JSON.stringify(answer));
  } catch (e) {
    console.log(JSON.stringify({ error: e.message }));
  }
  await page.close();
}
await close();
