/**
 * Dependency-free line charts as standalone SVG strings (for training curves in example reports).
 *
 * ```ts
 * const svg = lineChartSvg({
 *   title: 'Training loss',
 *   xLabel: 'step',
 *   yLabel: 'loss',
 *   logY: true,
 *   series: [
 *     { name: 'train', xs: steps, ys: trainLoss },
 *     { name: 'test', xs: epochsAsSteps, ys: testLoss },
 *   ],
 * });
 * writeFileSync('loss.svg', svg);
 * ```
 *
 * Non-finite points (NaN, ±Infinity, and values ≤ 0 on a log axis) are skipped; series longer than
 * `maxPoints` are downsampled per bucket to their min and max, which keeps spikes and the envelope.
 */

export interface LineSeries {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  /** CSS colour; defaults to a colour from a 10-colour palette. */
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Total width in px (default 720). */
  width?: number;
  /** Total height in px (default 420). */
  height?: number;
  /** Logarithmic y axis (points with y ≤ 0 are skipped). */
  logY?: boolean;
  /** Fix the y range instead of fitting it to the data (e.g. 0 and 1 for accuracy). */
  yMin?: number;
  yMax?: number;
  /** Most points drawn per series before downsampling kicks in (default 2000). */
  maxPoints?: number;
}

/** Matplotlib's tab10 palette. */
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif';

interface Point {
  x: number;
  y: number;
}

/** Escape text for use in SVG element content and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The finite points of a series (y > 0 too when `logY`), in their original order. */
function finitePoints(s: LineSeries, logY: boolean): Point[] {
  const n = Math.min(s.xs.length, s.ys.length);
  const pts: Point[] = [];
  for (let i = 0; i < n; i++) {
    const x = s.xs[i] as number;
    const y = s.ys[i] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (logY && y <= 0) continue;
    pts.push({ x, y });
  }
  return pts;
}

/**
 * Reduce `pts` to at most `maxPoints` (≥ 4) points that keep the shape: the first and last points,
 * plus, for each of ~maxPoints/2 equal index buckets in between, the bucket's minimum and maximum
 * in their original order. Returns `pts` itself when it is short enough.
 */
export function downsampleMinMax<P extends Point>(pts: readonly P[], maxPoints: number): readonly P[] {
  const limit = Math.max(4, Math.floor(maxPoints));
  if (pts.length <= limit) return pts;
  const first = pts[0] as P;
  const last = pts[pts.length - 1] as P;
  const out: P[] = [first];
  const interior = pts.length - 2;
  const buckets = Math.floor((limit - 2) / 2);
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * interior) / buckets);
    const end = 1 + Math.floor(((b + 1) * interior) / buckets);
    if (end <= start) continue;
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      const y = (pts[i] as P).y;
      if (y < (pts[iMin] as P).y) iMin = i;
      if (y > (pts[iMax] as P).y) iMax = i;
    }
    if (iMin === iMax) out.push(pts[iMin] as P);
    else if (iMin < iMax) out.push(pts[iMin] as P, pts[iMax] as P);
    else out.push(pts[iMax] as P, pts[iMin] as P);
  }
  out.push(last);
  return out;
}

/** 1, 2, 5 or 10 times a power of ten, nearest to `x` (Heckbert's "nice numbers"). */
function niceNumber(x: number): number {
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  const nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nf * 10 ** exp;
}

export interface Ticks {
  /** The (possibly widened) axis range. */
  lo: number;
  hi: number;
  values: number[];
  step: number;
}

/** Round tick values covering [lo, hi], about `target` of them; the range is widened to whole steps. */
export function niceTicks(lo: number, hi: number, target = 6): Ticks {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceNumber((hi - lo) / Math.max(1, target - 1));
  const niceLo = Math.floor(lo / step + 1e-9) * step;
  const niceHi = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  const count = Math.round((niceHi - niceLo) / step);
  for (let i = 0; i <= count; i++) {
    const v = niceLo + i * step;
    // kill floating-point fuzz like 0.30000000000000004 and -0
    values.push(Number(v.toPrecision(12)) + 0);
  }
  return { lo: niceLo, hi: niceHi, values, step };
}

/** Format a tick value with just enough digits for the tick spacing `step`. */
export function formatTick(v: number, step: number): string {
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  const abs = Math.abs(v);
  if (abs < step * 1e-9) return stepExp < -5 ? '0' : (0).toFixed(Math.max(0, -stepExp));
  if (abs >= 1e6 || stepExp < -5) {
    const digits = Math.max(0, Math.floor(Math.log10(abs) + 1e-9) - stepExp);
    return v
      .toExponential(Math.min(digits, 12))
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  }
  return v.toFixed(Math.max(0, -stepExp));
}

/** A decade label: 0.001 … 10000 in plain notation, otherwise 1e-5, 2e6, ... */
function formatLogTick(v: number): string {
  if (v >= 1e-3 && v < 1e5) return String(Number(v.toPrecision(6)));
  // NOTE: 10 ** -5 is 9.999999999999999e-6 in floating point; round before printing.
  return Number(v.toPrecision(6))
    .toExponential()
    .replace(/\.?0+e/, 'e')
    .replace('e+', 'e');
}

/** Ticks for a log10 axis over [lo, hi] (both > 0); returns log10 positions and labels. */
function logTicks(lo: number, hi: number): { lo: number; hi: number; ticks: { at: number; label: string; major: boolean }[] } {
  let a = Math.log10(lo);
  let b = Math.log10(hi);
  if (!(b > a)) {
    a -= 0.5;
    b += 0.5;
  }
  const d0 = Math.floor(a + 1e-9);
  const d1 = Math.ceil(b - 1e-9);
  const decades = d1 - d0;
  const ticks: { at: number; label: string; major: boolean }[] = [];
  if (decades <= 2) {
    // few decades: label 1, 2, 5 per decade, widening the range to the nearest such value
    const mult = [1, 2, 5];
    const cands: number[] = [];
    for (let d = d0; d <= d1; d++) for (const m of mult) cands.push(m * 10 ** d);
    const la = Math.max(...cands.filter((c) => Math.log10(c) <= a + 1e-9));
    const hb = Math.min(...cands.filter((c) => Math.log10(c) >= b - 1e-9));
    a = Math.log10(la);
    b = Math.log10(hb);
    for (const c of cands) {
      const at = Math.log10(c);
      if (at >= a - 1e-9 && at <= b + 1e-9) ticks.push({ at, label: formatLogTick(c), major: true });
    }
  } else {
    a = d0;
    b = d1;
    const every = Math.ceil(decades / 8);
    for (let d = d0; d <= d1; d++) {
      const major = (d - d0) % every === 0;
      ticks.push({ at: d, label: major ? formatLogTick(10 ** d) : '', major });
    }
  }
  return { lo: a, hi: b, ticks };
}

function num(v: number): string {
  // 2 decimals is sub-pixel; trim trailing zeros for compactness
  return String(Math.round(v * 100) / 100);
}

function textWidth(s: string, fontSize: number): number {
  return s.length * fontSize * 0.6;
}

function hashString(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

/** Render a line chart as a standalone SVG document string. */
export function lineChartSvg(opts: LineChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const logY = opts.logY ?? false;
  const maxPoints = opts.maxPoints ?? 2000;

  const series = opts.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? PALETTE[i % PALETTE.length] ?? '#1f77b4',
    pts: finitePoints(s, logY),
  }));

  // data extents over all series
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of series) {
    for (const p of s.pts) {
      if (p.x < xMin) xMin = p.x;
      if (p.x > xMax) xMax = p.x;
      if (p.y < yMin) yMin = p.y;
      if (p.y > yMax) yMax = p.y;
    }
  }
  const hasData = xMin <= xMax;
  if (!hasData) {
    xMin = 0;
    xMax = 1;
    yMin = logY ? 1 : 0;
    yMax = logY ? 10 : 1;
  }
  if (opts.yMin !== undefined && Number.isFinite(opts.yMin) && (!logY || opts.yMin > 0)) yMin = opts.yMin;
  if (opts.yMax !== undefined && Number.isFinite(opts.yMax) && (!logY || opts.yMax > 0)) yMax = opts.yMax;
  if (yMax < yMin) [yMin, yMax] = [yMax, yMin];

  const xt = niceTicks(xMin, xMax, Math.max(3, Math.round(width / 110)));
  const yTarget = Math.max(3, Math.round(height / 70));
  let yLo: number;
  let yHi: number;
  let yTicks: { at: number; label: string; major: boolean }[];
  if (logY) {
    const lt = logTicks(yMin, yMax);
    yLo = lt.lo;
    yHi = lt.hi;
    yTicks = lt.ticks;
  } else {
    const t = niceTicks(yMin, yMax, yTarget);
    yLo = t.lo;
    yHi = t.hi;
    yTicks = t.values.map((v) => ({ at: v, label: formatTick(v, t.step), major: true }));
  }

  // layout
  const fontSize = 12;
  const showLegend = series.length > 1;
  const legendWidth = showLegend
    ? Math.min(220, 34 + Math.max(...series.map((s) => textWidth(s.name, fontSize))))
    : 0;
  const yLabelWidth = Math.max(...yTicks.map((t) => textWidth(t.label, fontSize)), 0);
  const margin = {
    top: opts.title === '' ? 20 : 44,
    right: showLegend ? legendWidth + 24 : 24,
    bottom: 52,
    left: Math.max(56, yLabelWidth + 36),
  };
  const pw = Math.max(10, width - margin.left - margin.right);
  const ph = Math.max(10, height - margin.top - margin.bottom);
  const sx = (x: number): number => margin.left + ((x - xt.lo) / (xt.hi - xt.lo)) * pw;
  const sy = (y: number): number => {
    const v = logY ? Math.log10(y) : y;
    return margin.top + ph - ((v - yLo) / (yHi - yLo)) * ph;
  };
  const syAt = (at: number): number => margin.top + ph - ((at - yLo) / (yHi - yLo)) * ph;

  const clipId = `plot-clip-${hashString(opts.title + '|' + series.map((s) => s.name).join('|'))}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family='${FONT}' font-size="${fontSize}">`,
  );
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<defs><clipPath id="${clipId}"><rect x="${num(margin.left)}" y="${num(margin.top)}" width="${num(pw)}" height="${num(ph)}"/></clipPath></defs>`,
  );

  // grid
  out.push('<g stroke="#e6e6e6" stroke-width="1">');
  for (const v of xt.values) {
    const x = num(sx(v));
    out.push(`<line x1="${x}" y1="${num(margin.top)}" x2="${x}" y2="${num(margin.top + ph)}"/>`);
  }
  for (const t of yTicks) {
    const y = num(syAt(t.at));
    const extra = t.major ? '' : ' stroke-dasharray="2,3"';
    out.push(`<line x1="${num(margin.left)}" y1="${y}" x2="${num(margin.left + pw)}" y2="${y}"${extra}/>`);
  }
  out.push('</g>');

  // axes frame
  out.push(
    `<rect x="${num(margin.left)}" y="${num(margin.top)}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#444444" stroke-width="1"/>`,
  );

  // tick marks and labels
  out.push('<g fill="#333333">');
  for (const v of xt.values) {
    const x = num(sx(v));
    const yb = margin.top + ph;
    out.push(`<line x1="${x}" y1="${num(yb)}" x2="${x}" y2="${num(yb + 5)}" stroke="#444444"/>`);
    out.push(`<text x="${x}" y="${num(yb + 19)}" text-anchor="middle">${escapeXml(formatTick(v, xt.step))}</text>`);
  }
  for (const t of yTicks) {
    const y = num(syAt(t.at));
    out.push(
      `<line x1="${num(margin.left - (t.major ? 5 : 3))}" y1="${y}" x2="${num(margin.left)}" y2="${y}" stroke="#444444"/>`,
    );
    if (t.label !== '') {
      out.push(
        `<text x="${num(margin.left - 8)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`,
      );
    }
  }
  out.push('</g>');

  // axis labels and title
  out.push(
    `<text x="${num(margin.left + pw / 2)}" y="${num(height - 12)}" text-anchor="middle" font-size="13" fill="#222222">${escapeXml(opts.xLabel)}</text>`,
  );
  const ylx = 16;
  const yly = margin.top + ph / 2;
  out.push(
    `<text x="${ylx}" y="${num(yly)}" transform="rotate(-90 ${ylx} ${num(yly)})" text-anchor="middle" dominant-baseline="middle" font-size="13" fill="#222222">${escapeXml(opts.yLabel)}${logY ? ' (log)' : ''}</text>`,
  );
  if (opts.title !== '') {
    out.push(
      `<text x="${num(width / 2)}" y="26" text-anchor="middle" font-size="16" font-weight="600" fill="#111111">${escapeXml(opts.title)}</text>`,
    );
  }

  // data
  out.push(`<g clip-path="url(#${clipId})" fill="none" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round">`);
  for (const s of series) {
    const pts = downsampleMinMax(s.pts, maxPoints);
    if (pts.length === 0) continue;
    const coords = pts.map((p) => `${num(sx(p.x))},${num(sy(p.y))}`).join(' ');
    out.push(`<polyline data-series="${escapeXml(s.name)}" stroke="${escapeXml(s.color)}" points="${coords}"/>`);
    if (pts.length === 1) {
      const p = pts[0] as Point;
      out.push(`<circle cx="${num(sx(p.x))}" cy="${num(sy(p.y))}" r="3" fill="${escapeXml(s.color)}" stroke="none"/>`);
    }
  }
  out.push('</g>');

  if (!hasData) {
    out.push(
      `<text x="${num(margin.left + pw / 2)}" y="${num(margin.top + ph / 2)}" text-anchor="middle" fill="#888888">no data</text>`,
    );
  }

  // legend
  if (showLegend) {
    const lx = margin.left + pw + 14;
    const ly = margin.top;
    const rowH = 18;
    out.push(
      `<rect x="${num(lx)}" y="${num(ly)}" width="${num(legendWidth)}" height="${num(series.length * rowH + 10)}" fill="#ffffff" stroke="#dddddd" rx="3"/>`,
    );
    series.forEach((s, i) => {
      const y = ly + 5 + rowH * i + rowH / 2;
      out.push(
        `<line x1="${num(lx + 8)}" y1="${num(y)}" x2="${num(lx + 26)}" y2="${num(y)}" stroke="${escapeXml(s.color)}" stroke-width="2.5"/>`,
      );
      out.push(
        `<text x="${num(lx + 32)}" y="${num(y)}" dominant-baseline="middle" fill="#222222">${escapeXml(s.name)}</text>`,
      );
    });
  }

  out.push('</svg>');
  return out.join('\n') + '\n';
}
