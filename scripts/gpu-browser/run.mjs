#!/usr/bin/env node
// Browser GPU tests: bundle scripts/gpu-browser/suite.ts with esbuild, serve it with COOP/COEP,
// and run it in headless Chromium (SwiftShader) once per gpu.js backend. Then the Node device
// suites themselves (vitest-suites.ts: test/gpu/{ops,training,optimizers,fusion}, test/nn/device),
// bundled with `vitest` aliased to vitest-shim.ts and test/gpu/devices.ts swapped for ./devices.ts,
// on webgl2 and webgpu (webasm runs them in Node already).
//   node scripts/gpu-browser/run.mjs [webgl2 webgpu webasm]
// Needs Debian's `chromium` (apt-get install chromium) and the playwright-core devDependency.
// Prints one line per test and a closing "N passed, N failed"; exits non-zero on failure.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
/** esbuild options of a page bundle: `name`.ts here to `name`.js in `out`. */
const bundle = (name) => ({
  entryPoints: [join(here, `${name}.ts`)],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(out, `${name}.js`),
  external: ['node:*', 'gpu.js', 'webgpu'],
  logLevel: 'warning',
});
await build(bundle('suite'));
const testDevices = resolve(here, '../../test/gpu/devices.js');
await build({
  ...bundle('vitest-suites'),
  // package.json says "sideEffects": false (true of src/); test files register suites on import.
  ignoreAnnotations: true,
  plugins: [{
    name: 'vitest-in-the-browser',
    setup(b) {
      b.onResolve({ filter: /^vitest$/ }, () => ({ path: join(here, 'vitest-shim.ts') }));
      // test/optim2/helpers.ts reads its fixtures with readFileSync(new URL('../fixtures/optim2/…')):
      // in the page that is served from memory, the files embedded at bundle time.
      b.onResolve({ filter: /^node:fs$/ }, () => ({ path: 'fixtures', namespace: 'embedded-fs' }));
      b.onLoad({ filter: /.*/, namespace: 'embedded-fs' }, () => {
        const dir = resolve(here, '../../test/fixtures/optim2');
        const files = Object.fromEntries(readdirSync(dir).map((f) => [`fixtures/optim2/${f}`, readFileSync(join(dir, f), 'utf8')]));
        return {
          loader: 'js',
          contents: `const FILES = ${JSON.stringify(files)};
export function readFileSync(url) {
  const key = Object.keys(FILES).find((k) => String(url).endsWith(k));
  if (key === undefined) throw new Error('not embedded in the browser bundle: ' + String(url));
  return FILES[key];
}`,
        };
      });
      b.onResolve({ filter: /devices\.js$/ }, (a) => (resolve(a.resolveDir, a.path) === testDevices ? { path: join(here, 'devices.ts') } : undefined));
    },
  }],
});
const server = await serve({
  '/index.html': join(here, 'index.html'),
  '/suites.html': join(here, 'suites.html'),
  '/suite.js': join(out, 'suite.js'),
  '/vitest-suites.js': join(out, 'vitest-suites.js'),
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
/** Print and count one page's results. */
function record(backend, results) {
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${backend}: ${r.name} (${r.ms.toFixed(0)} ms)`);
    if (!r.ok) console.log(r.error.split('\n').map((l) => `     ${l}`).join('\n'));
    r.ok ? passed++ : failed++;
    report.push({ backend, ...r });
  }
}
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  for (const backend of backends) {
    console.log(`# ${backend}`);
    await page.goto(`${server.url}/index.html?backend=${backend}`);
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 120_000 });
    const results = await page.evaluate(() => window.__results);
    record(backend, results);
    if (backend === 'webasm') continue;
    const t0 = performance.now();
    await page.goto(`${server.url}/suites.html?backend=${backend}${process.env.GPU_BROWSER_GREP ? `&grep=${encodeURIComponent(process.env.GPU_BROWSER_GREP)}` : ''}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 600_000, polling: 1000 });
    const suites = await page.evaluate(() => window.__results);
    record(backend, suites);
    const ok = suites.filter((r) => r.ok).length;
    if (suites.length === 0) {
      console.log(`FAIL ${backend}: the Node device suites registered no tests`);
      failed++;
    }
    console.log(`# ${backend}: the Node device suites, ${ok}/${suites.length} passed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
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
