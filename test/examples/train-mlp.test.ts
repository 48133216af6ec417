/** examples/train-mlp.ts must keep running: a few batches, then the lecture's outputs and files. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

test('train-mlp runs a short epoch and writes its plot, log and checkpoint', () => {
  const root = resolve(import.meta.dirname, '../..');
  const out = join(root, '.tmp', 'train-mlp-smoke');
  rmSync(out, { recursive: true, force: true });
  const stdout = execFileSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    ['examples/train-mlp.ts', '--epochs', '1', '--max-batches', '20', '--log-every', '10', '--batch-size', '32', '--lr', '0.01', '--momentum', '0.5', '--out', out],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  expect(stdout).toMatch(/loss: \d\.\d{6} {2}\[ {3}32\/60000\]/);
  expect(stdout).toMatch(/Test Error: \n Accuracy: \d+\.\d%, Avg loss: \d\.\d{6}/);
  const stem = join(out, 'Optimizer-SGD_lr-0.01_mt-0.5_bs-32');
  const svg = readFileSync(`${stem}.svg`, 'utf8');
  expect(svg).toContain('Optimizer-SGD lr-0.01 mt-0.5 bs-32');
  const log = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { losses: number[]; epochs: unknown[] };
  expect(log.losses).toHaveLength(20);
  expect(log.epochs).toHaveLength(1);
  expect(existsSync(`${stem}.safetensors`)).toBe(true);
  rmSync(out, { recursive: true, force: true });
});

test('train-mlp --device gpu trains on the gpu device (the backend tg.gpu.init picks here) and rejects unknown devices', () => {
  const root = resolve(import.meta.dirname, '../..');
  const out = join(root, '.tmp', 'train-mlp-gpu-smoke');
  rmSync(out, { recursive: true, force: true });
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const stdout = execFileSync(
    tsx,
    ['examples/train-mlp.ts', '--device', 'gpu', '--epochs', '1', '--max-batches', '4', '--log-every', '2', '--batch-size', '32', '--out', out],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  const info = JSON.parse(/^gpu: (.*)$/m.exec(stdout)![1]!) as { backend: string; kernelClass: string };
  expect(info.kernelClass).toMatch(/Kernel$/);
  expect(stdout).toMatch(/loss: \d\.\d{6} {2}\[ {3}32\/60000\]/);
  expect(stdout).toMatch(/Test Error: \n Accuracy: \d+\.\d%, Avg loss: \d\.\d{6}/);
  rmSync(out, { recursive: true, force: true });
  expect(() => execFileSync(tsx, ['examples/train-mlp.ts', '--device', 'cuda'], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 60_000 })).toThrow(/--device must be cpu or gpu, got 'cuda'/);
});
