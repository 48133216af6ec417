/** PyTorch-like printing: `tensor([[1., 2.], [3., 4.]], requiresGrad=true)`. */
import type { Tensor } from './tensor.js';

function floatFormatter(values: number[]): (v: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const ints = finite.every((v) => Number.isInteger(v));
  const absMax = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const nz = finite.filter((v) => v !== 0).map(Math.abs);
  const absMin = nz.length ? Math.min(...nz) : 0;
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  // NOTE: toFixed/toExponential drop the sign of -0; PyTorch prints `-0.`.
  const signed = (v: number, s: string) => (Object.is(v, -0) ? `-${s}` : s);
  const exp = (v: number) => (Number.isFinite(v) ? signed(v, v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2')) : special(v));
  // PyTorch's _Formatter: scientific when the nonzero magnitudes span more than 1000x or exceed
  // 1e8 (whole numbers too), or, for fractions, when one is below 1e-4.
  const wide = absMax / Math.max(absMin, 1e-300) > 1000 || absMax > 1e8;
  if (ints) {
    // PyTorch prints whole floats as `1.`.
    if (wide) return exp;
    return (v) => (Number.isFinite(v) ? signed(v, `${v.toFixed(0)}.`) : special(v));
  }
  if (wide || (absMin > 0 && absMin < 1e-4)) return exp;
  return (v) => (Number.isFinite(v) ? signed(v, v.toFixed(4)) : special(v));
}

export function formatTensor(t: Tensor): string {
  const flat = Array.from(t.dataSync(), Number);
  let fmt: (v: number) => string;
  if (t.dtype === 'bool') fmt = (v) => (v ? 'true' : 'false');
  else if (t.dtype === 'int32') fmt = (v) => String(v);
  else fmt = floatFormatter(flat);
  const strs = flat.map(fmt);
  // As PyTorch, float column width comes from the nonzero finite values; nan/inf/zeros are padded
  // to it (or overflow it, as `-0.` in an all-zero tensor).
  const isFloat = t.dtype === 'float32' || t.dtype === 'float64';
  const width = strs.reduce((m, s, i) => (isFloat && !(Number.isFinite(flat[i]!) && flat[i] !== 0) ? m : Math.max(m, s.length)), 0);
  const pad = (s: string) => s.padStart(width);
  const indent = 'tensor('.length;
  const summarize = flat.length > 1000;
  const build = (dim: number, off: number): string => {
    if (dim === t.ndim) return pad(strs[off]!);
    const n = t.shape[dim]!;
    const step = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx = summarize && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    const last = dim === t.ndim - 1;
    const parts = idx.map((i) => (i < 0 ? (last ? ' ...' : '...') : build(dim + 1, off + i * step)));
    const lineBreak = ',' + '\n'.repeat(last ? 1 : t.ndim - 1 - dim) + ' '.repeat(indent + dim + 1);
    if (!last) return `[${parts.join(lineBreak)}]`;
    // PyTorch wraps the innermost dim at 80 columns (linewidth), a fixed number per line.
    const perLine = Math.max(1, Math.floor((80 - indent - dim) / (width + 2)));
    const lines: string[] = [];
    for (let i = 0; i < parts.length; i += perLine) lines.push(parts.slice(i, i + perLine).join(', '));
    return `[${lines.join(lineBreak)}]`;
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
