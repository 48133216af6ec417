// Imports the built package the way a consumer would (plain Node ESM, by package name) and runs
// a tiny forward/backward. Used by .ci/run after `npm run build`.
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'tensorgrad-consumer-'));
try {
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'tensorgrad'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const code = "import('tensorgrad').then((tg) => { const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true }); x.matmul(x).sum().backward(); const g = Array.from(x.grad.dataSync()); if (g.join() !== '7,11,9,13') throw new Error('bad grad ' + g); console.log('dist import ok:', g.join(', ')); })";
  execFileSync(process.execPath, ['-e', code], { cwd: dir, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
