// Shared by aelab's browser tests (web UI, notebooks): launches Debian's Chromium through
// playwright-core, which never downloads a browser of its own. The flags keep Chromium off the
// closed network (without them it floods it with refused connections) and the profile fresh.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

// chromiumPath is $CHROMIUM, else the chromium (or chromium-headless-shell) on PATH.
export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-headless-shell', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch { /* next */ }
  }
  throw new Error('no Chromium found (make setup installs Debian\'s chromium)');
}

// launch starts a headless browser with a new empty profile; close() removes the profile too.
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'aelab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}
