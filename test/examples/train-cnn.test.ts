/** examples/train-cnn.ts must keep running: a few batches, then the lecture's outputs and files. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

test('train-cnn runs a short epoch and writes its plot, log and checkpoint', () => {
  const root = resolve(import.meta.dirname, '../..');
  const out = join(root, '.tmp', 'train-cnn-smoke');
  rmSync(out, { recursive: true, force: true });
  const stdout = execFileSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    ['examples/train-cnn.ts', '--epochs', '1', '--limit', '256', '--test-limit', '500', '--batch-size', '32', '--log-every', '4', '--out', out],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  expect(stdout).toMatch(/loss: \d\.\d{6} {2}\[ {3}32\/256\]/);
  expect(stdout).toMatch(/Test Error: \n Accuracy: \d+\.\d%, Avg loss: \d\.\d{6}/);
  const stem = join(out, 'CNN-16-32_Optimizer-Adam_lr-0.003_bs-32_onecycle');
  expect(readFileSync(`${stem}.svg`, 'utf8')).toContain('CNN-16-32 Optimizer-Adam lr-0.003 bs-32 onecycle');
  const log = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { losses: number[]; epochs: unknown[] };
  expect(log.losses).toHaveLength(8);
  expect(existsSync(`${stem}.safetensors`)).toBe(true);
  rmSync(out, { recursive: true, force: true });
});
