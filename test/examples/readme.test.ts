/** The README's example must run as printed and learn what it claims (distance to the origin). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, vi } from 'vitest';

test('README example runs and learns |x|', async () => {
  const root = resolve(import.meta.dirname, '../..');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const dir = join(root, '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-example.test-run.ts');
  writeFileSync(file, block!.replace("from 'tensorgrad'", `from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)}`));
  const logs: unknown[][] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    spy.mockRestore();
  }
  const last = Number(logs[logs.length - 1]![0]);
  expect(Math.abs(last - 2)).toBeLessThan(0.2); // the comment says ≈ 2
  const firstLoss = Number(logs[0]![1]);
  const lastLoss = Number(logs[logs.length - 2]![1]);
  expect(lastLoss).toBeLessThan(firstLoss / 10);
});
