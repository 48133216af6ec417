/**
 * `npm run bench`: runs every `bench/*.bench.ts` suite (each exports an async `run…Bench`
 * function returning rows) and prints the results; `npm run bench -- --write` also rewrites
 * bench/RESULTS.md with the machine, the date and one table per suite (hand-written notes after
 * the `<!-- notes ... -->` marker are kept).
 *
 *   npm run bench                          # all suites
 *   npm run bench -- core                  # only suites whose file name contains "core"
 *   npm run bench -- --write --time=2000 --rounds=3   # longer runs, then update RESULTS.md
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CoreBenchRow } from './core.bench.js';

type Row = Record<string, unknown>;

/** RESULTS.md keeps everything from this marker on when the tables are regenerated. */
const NOTES = '<!-- notes: kept by npm run bench -- --write -->';
/** Marks a suite section carried over from an earlier run (filtered out of this one). */
const KEPT = '(kept from an earlier run)';
type Runner = (opts: { time?: number; log?: boolean; rounds?: number }) => Promise<readonly Row[]>;

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const write = args.includes('--write');
const time = Number(args.find((a) => a.startsWith('--time='))?.slice(7) ?? 1000);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const filters = args.filter((a) => !a.startsWith('--'));

const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && (filters.length === 0 || filters.some((p) => f.includes(p)))).sort((a, b) => (a === 'core.bench.ts' ? -1 : b === 'core.bench.ts' ? 1 : a.localeCompare(b)));

const load0 = loadavg()[0]!;
const results: { file: string; rows: readonly Row[] }[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(`${here}${file}`).href)) as Record<string, unknown>;
  const runners = Object.entries(mod).filter((e): e is [string, Runner] => /^run\w*Bench$/.test(e[0]) && typeof e[1] === 'function');
  for (const [name, run] of runners) {
    console.log(`\n== ${file}: ${name}`);
    try {
      results.push({ file, rows: await run({ time, log: true, rounds }) });
    } catch (e) {
      // One suite failing (say, no GPU here) must not lose the others' figures.
      console.error(`${file}: ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      results.push({ file, rows: [{ error: e instanceof Error ? e.message : String(e) }] });
    }
  }
}
const load1 = loadavg()[0]!;

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v));

/**
 * The core suite as one line per case: wall-clock medians with process CPU time in parentheses,
 * and speed ratios on both clocks (their time / ours: above 1 means tensorgrad is faster).
 */
function coreTable(rows: readonly CoreBenchRow[]): string {
  const out = [
    '| group | case | tensorgrad ms (cpu) | in tg.scope ms (cpu) | 2T ms: plain / scope | tfjs-cpu ms | tfjs-wasm ms (cpu) | vs tfjs-cpu | vs tfjs-wasm: plain (cpu) / scope (cpu) | 2T speed-up: plain / scope | ours GFLOP/s: plain / scope / scope 2T | tfjs-wasm GFLOP/s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const keys = [...new Set(rows.map((r) => `${r.group}\u0000${r.case}`))];
  for (const key of keys) {
    const rs = rows.filter((r) => `${r.group}\u0000${r.case}` === key);
    const get = (impl: string) => rs.find((r) => r.impl === impl);
    const [ours, two, scoped, scoped2, cpu, wasm] = ['tensorgrad', 'tensorgrad 2T', 'tensorgrad scope', 'tensorgrad scope 2T', 'tfjs-cpu', 'tfjs-wasm'].map(get);
    const best = scoped && ours && scoped.medianMs < ours.medianMs ? scoped : ours;
    const f2 = (x: number) => x.toFixed(x < 10 ? 2 : 1);
    const ms = (r?: CoreBenchRow, withCpu = false) => (r ? `${f2(r.medianMs)}${withCpu ? ` (${f2(r.cpuMs)})` : ''}` : '–');
    const ratio = (r?: CoreBenchRow, to?: CoreBenchRow, withCpu = false) =>
      r && to ? `${(r.medianMs / to.medianMs).toFixed(2)}x${withCpu ? ` (${(r.cpuMs / to.cpuMs).toFixed(2)}x)` : ''}` : '–';
    const gf = (r?: CoreBenchRow) => (r?.flop ? (r.flop / r.medianMs / 1e6).toFixed(1) : '–');
    const both = (a: string, b: string) => (a === '–' && b === '–' ? '–' : `${a} / ${b}`);
    out.push(`| ${rs[0]!.group} | ${rs[0]!.case} | ${ms(ours, true)} | ${ms(scoped, true)} | ${both(ms(two), ms(scoped2))} | ${ms(cpu)} | ${ms(wasm, true)} | ${ratio(cpu, best)} | ${both(ratio(wasm, ours, true), ratio(wasm, scoped, true))} | ${both(ratio(ours, two), ratio(scoped, scoped2))} | ${ours?.flop ? `${gf(ours)} / ${gf(scoped)} / ${gf(scoped2)}` : '–'} | ${gf(wasm)} |`);
  }
  return out.join('\n');
}

/** Any other suite: its rows as they come. */
function genericTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(' | ')} |`)].join('\n');
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} logical cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version} (V8 ${process.versions.v8}); ${process.platform}/${process.arch}`;
const sections = results.map(({ file, rows }) => `## ${file}\n\n${file === 'core.bench.ts' ? coreTable(rows as readonly unknown[] as readonly CoreBenchRow[]) : genericTable(rows)}`);
const report = `# Benchmark results

Generated by \`npm run bench -- --write\` on ${new Date().toISOString().slice(0, 10)}.

- Machine: ${machine}.
- Load average (1 min) at start / end: ${load0.toFixed(2)} / ${load1.toFixed(2)}${load0 > 1 || load1 > 1 ? ' (other processes shared the machine: absolute times are noisy; ratios were measured in the same run)' : ''}.
- Times are tinybench medians per call; the core suite keeps the fastest of ${rounds} interleaved rounds and
  also reports process CPU time per call in parentheses (steadier when other processes take the
  cores; for 2T rows it would sum both threads, so it is omitted there). Ratios are
  (their time / our time): above 1 means tensorgrad is faster.
- tensorgrad runs float32 on its WebAssembly SIMD kernels (one thread unless marked 2T). "tensorgrad"
  is plain PyTorch-style code; "in tg.scope" runs each call inside \`tg.scope()\` on inputs kept from
  one, so tensors live in wasm memory (the discipline tfjs's \`dispose()\`/\`tidy\` imposes on its side).
  tfjs-wasm is TensorFlow.js 4.22's XNNPACK backend (SIMD, single-threaded in Node), tfjs-cpu its
  plain-JS backend. "vs tfjs-cpu" compares with the faster of our two variants.

${sections.join('\n\n')}
`;
console.log(`\n${report}`);
if (write && results.length === 0) console.log('no suite ran; bench/RESULTS.md left as it was');
else if (write) {
  // Hand-written analysis below the NOTES marker survives regeneration.
  const file = new URL('RESULTS.md', import.meta.url);
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(NOTES);
  // Suites filtered out of this run keep their previous section.
  const kept = [...(at >= 0 ? old.slice(0, at) : old).matchAll(/^## (\S+\.bench\.ts)\n[\s\S]*?(?=^## |(?![\s\S]))/gm)]
    .filter((m) => !results.some((r) => r.file === m[1]))
    .map((m) => (m[0].trimEnd().endsWith(KEPT) ? m[0].trimEnd() : `${m[0].trimEnd()}\n\n${KEPT}`));
  const body = kept.length ? `${report.trimEnd()}\n\n${kept.join('\n\n')}\n` : report;
  writeFileSync(file, at >= 0 ? `${body}\n${old.slice(at)}` : body);
  console.log('wrote bench/RESULTS.md');
}
