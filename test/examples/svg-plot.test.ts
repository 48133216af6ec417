import { describe, expect, it } from 'vitest';
import {
  downsampleMinMax,
  escapeXml,
  formatTick,
  lineChartSvg,
  niceTicks,
} from '../../examples/lib/svg-plot.js';

function polylines(svg: string): { series: string; points: [number, number][] }[] {
  const out: { series: string; points: [number, number][] }[] = [];
  for (const m of svg.matchAll(/<polyline data-series="([^"]*)"[^>]*points="([^"]*)"/g)) {
    const pts = (m[2] ?? '')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map((pair) => {
        const [x, y] = pair.split(',').map(Number);
        return [x ?? NaN, y ?? NaN] as [number, number];
      });
    out.push({ series: m[1] ?? '', points: pts });
  }
  return out;
}

/** A light well-formedness check: every opened tag is closed in order. */
function expectBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose === '/') continue;
    if (close === '/') expect(stack.pop()).toBe(name);
    else stack.push(name ?? '');
  }
  expect(stack).toEqual([]);
}

function expectNoBadNumbers(svg: string): void {
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
}

describe('lineChartSvg', () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const ys = xs.map((x) => 2 * Math.exp(-x / 10) + 0.1);

  it('produces a standalone SVG with title, axis labels, ticks and one polyline', () => {
    const svg = lineChartSvg({ title: 'Loss <train> & co', xLabel: 'step', yLabel: 'loss', series: [{ name: 'train', xs, ys }] });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Loss &lt;train&gt; &amp; co');
    expect(svg).toContain('>step</text>');
    expect(svg).toContain('>loss</text>');
    expectBalancedTags(svg);
    expectNoBadNumbers(svg);
    const lines = polylines(svg);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.points).toHaveLength(50);
    // the decaying curve goes down on screen: y grows
    const pts = lines[0]?.points ?? [];
    expect((pts[49]?.[1] ?? 0) > (pts[0]?.[1] ?? 0)).toBe(true);
    // round tick labels on x: 0, 10, ..., 50
    for (const t of ['0', '10', '20', '30', '40', '50']) expect(svg).toContain(`>${t}</text>`);
    // a single series has no legend box
    expect(svg).not.toMatch(/stroke-width="2.5"/);
  });

  it('draws one polyline per series and a legend when there are several', () => {
    const svg = lineChartSvg({
      title: 'acc',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: [
        { name: 'train', xs: [1, 2, 3], ys: [0.8, 0.9, 0.95] },
        { name: 'test', xs: [1, 2, 3, 4], ys: [0.7, 0.85, 0.9, 0.91] },
      ],
    });
    const lines = polylines(svg);
    expect(lines.map((l) => l.series)).toEqual(['train', 'test']);
    expect(lines[0]?.points).toHaveLength(3);
    expect(lines[1]?.points).toHaveLength(4);
    expect(svg).toContain('>train</text>');
    expect(svg).toContain('>test</text>');
    expectBalancedTags(svg);
    expectNoBadNumbers(svg);
  });

  it('handles a constant series without NaN coordinates', () => {
    const svg = lineChartSvg({ title: 'flat', xLabel: 'x', yLabel: 'y', series: [{ name: 'c', xs: [0, 1, 2, 3], ys: [5, 5, 5, 5] }] });
    expectNoBadNumbers(svg);
    const pts = polylines(svg)[0]?.points ?? [];
    expect(pts).toHaveLength(4);
    expect(new Set(pts.map((p) => p[1])).size).toBe(1);
    for (const [x, y] of pts) {
      expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
    }
    // also zero, a single point and log scale
    expectNoBadNumbers(lineChartSvg({ title: 'z', xLabel: 'x', yLabel: 'y', series: [{ name: 'z', xs: [0, 1], ys: [0, 0] }] }));
    const single = lineChartSvg({ title: 's', xLabel: 'x', yLabel: 'y', series: [{ name: 's', xs: [3], ys: [7] }] });
    expectNoBadNumbers(single);
    expect(single).toContain('<circle');
    expectNoBadNumbers(lineChartSvg({ title: 'l', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'l', xs: [0, 1], ys: [2, 2] }] }));
  });

  it('skips NaN and infinite values', () => {
    const svg = lineChartSvg({
      title: 'gaps',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'g', xs: [0, 1, 2, 3, 4, NaN], ys: [1, NaN, 3, Infinity, 2, 4] }],
    });
    expectNoBadNumbers(svg);
    expect(polylines(svg)[0]?.points).toHaveLength(3);
  });

  it('copes with series that have no finite data at all', () => {
    const svg = lineChartSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [{ name: 'e', xs: [0, 1], ys: [NaN, NaN] }] });
    expectNoBadNumbers(svg);
    expect(svg).toContain('no data');
    expect(polylines(svg)).toHaveLength(0);
    expectBalancedTags(svg);
  });

  it('supports a log-scale y axis with decade ticks and drops y <= 0', () => {
    const steps = Array.from({ length: 200 }, (_, i) => i);
    const loss = steps.map((s) => 3 * 10 ** (-s / 50));
    loss[10] = 0;
    loss[11] = -1;
    const svg = lineChartSvg({ title: 'log', xLabel: 'step', yLabel: 'loss', logY: true, series: [{ name: 'l', xs: steps, ys: loss }] });
    expectNoBadNumbers(svg);
    expect(polylines(svg)[0]?.points).toHaveLength(198);
    for (const t of ['0.001', '0.01', '0.1', '1', '10']) expect(svg).toContain(`>${t}</text>`);
    expect(svg).toContain('loss (log)');
    // equal ratios are equal distances on screen
    const pts = polylines(svg)[0]?.points ?? [];
    const d1 = (pts[50]?.[1] ?? 0) - (pts[0]?.[1] ?? 0);
    const d2 = (pts[100]?.[1] ?? 0) - (pts[50]?.[1] ?? 0);
    expect(Math.abs(d1 - d2)).toBeLessThan(0.1 * Math.abs(d1));
  });

  it('downsamples very long series without losing spikes', () => {
    const n = 100_000;
    const xs2 = Array.from({ length: n }, (_, i) => i);
    const ys2 = xs2.map((i) => Math.sin(i / 5000) + 0.01 * Math.sin(i));
    ys2[12_345] = 10; // a spike
    ys2[67_890] = -10; // and a dip
    const svg = lineChartSvg({ title: 'long', xLabel: 'step', yLabel: 'y', series: [{ name: 'long', xs: xs2, ys: ys2 }] });
    expectNoBadNumbers(svg);
    const pts = polylines(svg)[0]?.points ?? [];
    expect(pts.length).toBeGreaterThan(1000);
    expect(pts.length).toBeLessThanOrEqual(2000);
    const screenYs = pts.map((p) => p[1]);
    const top = Math.min(...screenYs);
    const bottom = Math.max(...screenYs);
    // the spike and the dip are the extreme points on screen
    const iTop = screenYs.indexOf(top);
    const iBottom = screenYs.indexOf(bottom);
    const xSpan = (pts[pts.length - 1]?.[0] ?? 0) - (pts[0]?.[0] ?? 0);
    expect(Math.abs((pts[iTop]?.[0] ?? 0) - (pts[0]?.[0] ?? 0) - 0.12345 * xSpan)).toBeLessThan(1);
    expect(Math.abs((pts[iBottom]?.[0] ?? 0) - (pts[0]?.[0] ?? 0) - 0.6789 * xSpan)).toBeLessThan(1);
    // x stays monotone
    for (let i = 1; i < pts.length; i++) expect(pts[i]?.[0] ?? 0).toBeGreaterThanOrEqual(pts[i - 1]?.[0] ?? 0);
  });

  it('respects width, height and a fixed y range', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      width: 400,
      height: 300,
      yMin: 0,
      yMax: 1,
      series: [{ name: 'a', xs: [0, 1], ys: [0.5, 0.6] }],
    });
    expect(svg).toContain('width="400" height="300" viewBox="0 0 400 300"');
    for (const t of ['0.0', '0.5', '1.0']) expect(svg).toContain(`>${t}</text>`);
  });
});

describe('helpers', () => {
  it('niceTicks picks round steps covering the range', () => {
    expect(niceTicks(0, 9375, 6)).toMatchObject({ lo: 0, hi: 10000, step: 2000 });
    expect(niceTicks(0.0312, 2.31, 6).values).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(0.1, 0.3, 5).values).toEqual([0.1, 0.15, 0.2, 0.25, 0.3]);
    const c = niceTicks(5, 5);
    expect(c.lo).toBeLessThan(5);
    expect(c.hi).toBeGreaterThan(5);
  });

  it('formatTick uses as many digits as the step needs', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(1500, 500)).toBe('1500');
    expect(formatTick(0.05, 0.05)).toBe('0.05');
    expect(formatTick(2e6, 1e6)).toBe('2e6');
    expect(formatTick(3e-7, 1e-7)).toBe('3e-7');
    expect(formatTick(-0, 1)).toBe('0');
    expect(formatTick(1e-17, 0.1)).toBe('0.0');
  });

  it('downsampleMinMax keeps short inputs and bounds long ones', () => {
    const pts = Array.from({ length: 10 }, (_, i) => ({ x: i, y: i % 3 }));
    expect(downsampleMinMax(pts, 2000)).toBe(pts);
    const long = Array.from({ length: 10_001 }, (_, i) => ({ x: i, y: Math.cos(i) }));
    const d = downsampleMinMax(long, 500);
    expect(d.length).toBeLessThanOrEqual(500);
    expect(d[0]).toBe(long[0]);
    expect(d[d.length - 1]).toBe(long[10_000]);
  });

  it('escapeXml escapes markup characters', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
  });
});

it('log-axis decade labels are clean powers of ten', () => {
  const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', xs: [0, 1, 2], ys: [1e-7, 1e-3, 1] }] });
  expect(svg).toContain('>1e-5<');
  expect(svg).not.toMatch(/9\.9999/);
});
