#!/usr/bin/env node
// Browser GPU tests: bundle scripts/gpu-browser/suite.ts with esbuild, serve it with COOP/COEP,
// and run it in headless Chromium (SwiftShader) once per gpu.js backend.
//   node scripts/gpu-browser/run.mjs [webgl2 webgpu webasm]
// Needs Debian's `chromium` (apt-get install chromium) and the playwright-core devDependency.
// Prints one line per test and a closing "N passed, N failed"; exits non-zero on failure.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const backends = process.argv.slice(2).length ? process.argv.slice(2) : ['webgl2', 'webgpu', 'webasm'];
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const out = mkdtempSync(join(tmpdir(), 'tg-gpu-browser-'));
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
});
const server = await serve({
  '/index.html': join(here, 'index.html'),
  '/suite.js': join(out, 'suite.js'),
  '/gpu-browser.js': require.resolve('gpu.js/dist/gpu-browser.js'),
});
const profile = mkdtempSync(join(tmpdir(), 'tg-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'],
});
let passed = 0;
let failed = 0;
const report = [];
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  for (const backend of backends) {
    console.log(`# ${backend}`);
    await page.goto(`${server.url}/index.html?backend=${backend}`);
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 120_000 });
    const results = await page.evaluate(() => window.__results);
    for (const r of results) {
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${backend}: ${r.name} (${r.ms.toFixed(0)} ms)`);
      if (!r.ok) console.log(r.error.split('\n').map((l) => `     ${l}`).join('\n'));
      r.ok ? passed++ : failed++;
      report.push({ backend, ...r });
    }
  }
} finally {
  await ctx.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
if (process.env.GPU_BROWSER_REPORT) writeFileSync(process.env.GPU_BROWSER_REPORT, JSON.stringify(report, null, 2));
console.log(`browser gpu tests took ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
