/** PyTorch-like printing: `tensor([[1., 2.], [3., 4.]], requiresGrad=true)`. */
import type { Tensor } from './tensor.js';

function floatFormatter(values: number[]): (v: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const ints = finite.every((v) => Number.isInteger(v));
  const absMax = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const nz = finite.filter((v) => v !== 0).map(Math.abs);
  const absMin = nz.length ? Math.min(...nz) : 0;
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (ints) {
    // PyTorch prints whole floats as `1.` unless they are huge.
    if (absMax >= 1e8) return (v) => (Number.isFinite(v) ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : special(v));
    return (v) => (Number.isFinite(v) ? `${v.toFixed(0)}.` : special(v));
  }
  const sci = absMax / Math.max(absMin, 1e-300) > 1000 || absMax > 1e8 || (absMin > 0 && absMin < 1e-4);
  if (sci) return (v) => (Number.isFinite(v) ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : special(v));
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

export function formatTensor(t: Tensor): string {
  const flat = Array.from(t.dataSync(), Number);
  let fmt: (v: number) => string;
  if (t.dtype === 'bool') fmt = (v) => (v ? 'true' : 'false');
  else if (t.dtype === 'int32') fmt = (v) => String(v);
  else fmt = floatFormatter(flat);
  const strs = flat.map(fmt);
  const width = strs.reduce((m, s) => Math.max(m, s.length), 0);
  const pad = (s: string) => s.padStart(width);
  const indent = 'tensor('.length;
  const summarize = flat.length > 1000;
  const build = (dim: number, off: number): string => {
    if (dim === t.ndim) return pad(strs[off]!);
    const n = t.shape[dim]!;
    const step = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = summarize && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i < 0 ? '...' : build(dim + 1, off + i * step)));
    const sep = dim === t.ndim - 1 ? ', ' : ',' + '\n'.repeat(t.ndim - 1 - dim) + ' '.repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  let body = t.ndim === 0 ? strs[0]! : build(0, 0);
  if (t.numel() === 0) body = '[]';
  const extras: string[] = [];
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if ((t.numel() === 0 && t.ndim !== 1) ) extras.push(`size=[${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32' && !(t.dtype === 'bool' && t.numel() > 0)) extras.push(`dtype=${t.dtype}`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}
