#!/usr/bin/env node
// Browser thread-pool tests: bundle scripts/browser-threads/suite.ts with esbuild and run it in
// headless Chromium twice: in a crossOriginIsolated page (COOP/COEP, from the gpu-browser
// server), where Web Workers must split large matmuls bit-identically to one thread, and in a
// page served with plain headers, where setNumThreads(2) must stay single-threaded.
//   node scripts/browser-threads/run.mjs
// Needs Debian's `chromium` (apt-get install chromium) and the playwright-core devDependency.
// Prints one line per test and a closing "N passed, N failed"; exits non-zero on failure.
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { serve } from '../gpu-browser/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const out = mkdtempSync(join(tmpdir(), 'tg-browser-threads-'));
const started = performance.now();
await build({
  entryPoints: [join(here, 'suite.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(out, 'suite.js'),
  external: ['node:*', 'gpu.js', 'webgpu'],
  logLevel: 'warning',
}).catch((e) => {
  rmSync(out, { recursive: true, force: true });
  throw e;
});
const routes = { '/index.html': join(here, 'index.html'), '/suite.js': join(out, 'suite.js') };

/** The same files without COOP/COEP: the page is not crossOriginIsolated (no SharedArrayBuffer). */
function servePlain() {
  const server = createServer((req, res) => {
    const file = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': file.endsWith('.html') ? 'text/html' : 'text/javascript', 'Cache-Control': 'no-store' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) })));
}

const isolated = await serve(routes);
const plain = await servePlain();
const profile = mkdtempSync(join(tmpdir(), 'tg-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let passed = 0;
let failed = 0;
const check = (name, ok, error = '', note = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${note ? ` -- ${note}` : ''}`);
  if (!ok) console.log(String(error).split('\n').map((l) => `     ${l}`).join('\n'));
  ok ? passed++ : failed++;
};

/** Load the suite in a fresh page; returns its results and how many workers the page started. */
async function runPage(mode, url) {
  const page = await ctx.newPage();
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  let workers = 0;
  page.on('worker', () => workers++);
  try {
    await page.goto(`${url}/index.html?mode=${mode}`);
    await page.waitForFunction(() => globalThis.__results !== undefined, null, { timeout: 50_000 });
    const results = await page.evaluate(() => globalThis.__results);
    for (const r of results) check(`${mode}: ${r.name} (${r.ms.toFixed(0)} ms)`, r.ok, r.error, r.note);
    // Every worker the page started (pool workers, the suite's own worker) must be gone by now.
    // NOTE: Chromium tears terminated workers down asynchronously; on a loaded 2-core machine that
    // once took longer than 5 s, so allow 20 s before calling a worker leaked.
    const deadline = Date.now() + 20_000;
    while (page.workers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return { workers, left: page.workers().length };
  } finally {
    await page.close();
  }
}

try {
  console.log('# crossOriginIsolated page (COOP/COEP)');
  const iso = await runPage('isolated', isolated.url);
  // NOTE: the suite checks in the page that tensorgrad terminated every pool worker it created
  // ('setNumThreads(1) stops the workers'). Playwright's own list may keep a worker that was
  // terminated while still starting (seen 2 runs in 6 under CI load), so it is reported, not failed on.
  check('isolated: the page started Web Workers', iso.workers > 0, `${iso.workers} started`, `${iso.workers} workers started, ${iso.left} still listed by Playwright after 20 s`);
  console.log('# plain page (no COOP/COEP)');
  const pl = await runPage('plain', plain.url);
  check('plain: no worker was started', pl.workers === 0, `${pl.workers} started`);
} catch (e) {
  check('the runner', false, e?.stack ?? e);
} finally {
  await ctx.close();
  await isolated.close();
  await plain.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
console.log(`browser thread tests took ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
