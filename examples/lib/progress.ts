/**
 * A small terminal progress bar for training loops.
 *
 * ```ts
 * const bar = new ProgressBar({ total: 60000, label: `epoch ${epoch}/${epochs}` });
 * for (...) bar.update(samplesDone, { loss, samplesPerSec });
 * bar.done();
 * ```
 *
 * On a TTY it redraws one line in place (`\r`), at most every `minIntervalMs`:
 *
 * ```text
 * epoch 1/5 [=========>          ] 32000/60000 loss 0.4312  5120 samples/s  ETA 5s
 * ```
 *
 * Elsewhere (CI logs, pipes) it prints a full line only each time another `logEvery` fraction
 * (default 10%) is done, and the final line at `done()` (always call it).
 */

/** The part of a writable stream the bar uses (process.stdout / process.stderr fit). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Units (samples) in one pass. */
  total: number;
  /** Prefix, e.g. `epoch 1/5`. */
  label?: string;
  /** Width of the bar itself in characters (default 30; shrunk to fit narrow terminals). */
  width?: number;
  /** Where to draw (default `process.stdout`). */
  stream?: ProgressStream;
  /** Force TTY (in-place) or log-line mode instead of asking the stream. */
  tty?: boolean;
  /** Non-TTY mode: print a line each time this fraction more is done (default 0.1). */
  logEvery?: number;
  /** TTY mode: minimum milliseconds between redraws (default 100; the final state is always drawn). */
  minIntervalMs?: number;
  /** Clock in milliseconds (default `performance.now`); injectable for tests. */
  now?: () => number;
}

export interface ProgressStats {
  loss?: number;
  /** Throughput; when omitted it is measured from elapsed time. */
  samplesPerSec?: number;
  /** Any extra text to append, e.g. `acc 91.2%`. */
  extra?: string;
}

/** Human-readable duration: `0.4s`, `5s`, `1m05s`, `2h03m`; `--` for unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m}m${String(s % 60).padStart(2, '0')}s`;
  }
  const totalMin = Math.round(s / 60);
  const h = Math.floor(totalMin / 60);
  return `${h}h${String(totalMin % 60).padStart(2, '0')}m`;
}

function formatRate(r: number): string {
  if (!Number.isFinite(r) || r < 0) return '--';
  if (r >= 100) return String(Math.round(r));
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

function formatLoss(l: number): string {
  if (!Number.isFinite(l)) return String(l);
  const a = Math.abs(l);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return l.toExponential(3);
  return l.toFixed(4);
}

export class ProgressBar {
  readonly total: number;
  private readonly label: string;
  private readonly width: number;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly logEvery: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly startMs: number;
  private lastDrawMs = -Infinity;
  private lastLoggedBucket = 0;
  private current = 0;
  private stats: ProgressStats = {};
  private finished = false;

  constructor(opts: ProgressBarOptions) {
    if (!(opts.total >= 0) || !Number.isFinite(opts.total)) {
      throw new RangeError(`ProgressBar: total must be a finite number >= 0, got ${opts.total}`);
    }
    this.total = opts.total;
    this.label = opts.label ?? '';
    this.width = Math.max(5, Math.floor(opts.width ?? 30));
    this.stream = opts.stream ?? process.stdout;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.logEvery = opts.logEvery !== undefined && opts.logEvery > 0 ? opts.logEvery : 0.1;
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.startMs = this.now();
  }

  /** Seconds since the bar was created. */
  get elapsedSeconds(): number {
    return (this.now() - this.startMs) / 1000;
  }

  /** Report that `done` of `total` units are finished. */
  update(done: number, stats: ProgressStats = {}): void {
    if (this.finished) return;
    this.current = Math.max(0, Math.min(done, this.total));
    this.stats = stats;
    const t = this.now();
    if (this.tty) {
      const complete = this.current >= this.total;
      if (!complete && t - this.lastDrawMs < this.minIntervalMs) return;
      this.lastDrawMs = t;
      this.drawInPlace(this.render());
    } else {
      const frac = this.total === 0 ? 1 : this.current / this.total;
      const bucket = Math.floor(frac / this.logEvery + 1e-9);
      // the 100% line is left to done(), so it is printed once, with the summary
      if (bucket > this.lastLoggedBucket && this.current < this.total) {
        this.lastLoggedBucket = bucket;
        this.writeLine(this.render());
      }
    }
  }

  /**
   * Print a line above the bar (e.g. the lecture's `loss: … [ 6400/60000]` lines): on a TTY the
   * bar is cleared, the line printed and the bar redrawn below it.
   */
  log(line: string): void {
    if (this.tty && !this.finished) {
      this.stream.write('\r\x1b[2K' + line + '\n');
      this.drawInPlace(this.render());
    } else {
      this.writeLine(line);
    }
  }

  /** Finish: draw the final state (with an optional summary appended) and end the line. */
  done(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    let line = this.render();
    if (summary !== undefined && summary !== '') line += `  ${summary}`;
    if (this.tty) {
      this.drawInPlace(line);
      this.stream.write('\n');
    } else {
      this.writeLine(line);
    }
  }

  /** The status line for the current state (no control characters). */
  render(): string {
    const { total, current } = this;
    const frac = total === 0 ? 1 : current / total;
    const elapsed = this.elapsedSeconds;
    const measured = elapsed > 0 ? current / elapsed : NaN;
    const rate = this.stats.samplesPerSec ?? measured;
    const remaining = total - current;
    const eta = remaining <= 0 ? 0 : rate > 0 ? remaining / rate : NaN;

    const parts: string[] = [];
    if (this.label !== '') parts.push(this.label);
    parts.push(this.bar(frac, this.barWidth()));
    const digits = String(total).length;
    parts.push(`${String(current).padStart(digits)}/${total}`);
    const tail: string[] = [];
    if (this.stats.loss !== undefined) tail.push(`loss ${formatLoss(this.stats.loss)}`);
    if (this.stats.extra !== undefined && this.stats.extra !== '') tail.push(this.stats.extra);
    tail.push(`${formatRate(rate)} samples/s`);
    tail.push(remaining <= 0 ? `${formatDuration(elapsed)} total` : `ETA ${formatDuration(eta)}`);
    return `${parts.join(' ')} ${tail.join('  ')}`;
  }

  private barWidth(): number {
    const cols = this.tty ? this.stream.columns : undefined;
    if (cols === undefined || cols <= 0) return this.width;
    // leave ~60 columns for the label and the numbers
    return Math.max(5, Math.min(this.width, cols - 60 - this.label.length));
  }

  private bar(frac: number, width: number): string {
    const filled = Math.max(0, Math.min(width, Math.floor(frac * width)));
    if (filled >= width) return `[${'='.repeat(width)}]`;
    const head = filled > 0 || frac > 0 ? '>' : ' ';
    return `[${'='.repeat(filled)}${head}${' '.repeat(width - filled - 1)}]`;
  }

  private drawInPlace(line: string): void {
    const cols = this.stream.columns;
    // never wrap: a wrapped line cannot be overwritten by '\r'
    const fitted = cols !== undefined && cols > 1 && line.length >= cols ? line.slice(0, cols - 1) : line;
    // '\x1b[K' clears what is left of a longer previous line
    this.stream.write(`\r${fitted}\x1b[K`);
  }

  private writeLine(line: string): void {
    this.stream.write(`${line}\n`);
  }
}
