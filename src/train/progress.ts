/**
 * Progress on stderr: a one-line bar redrawn in place on a TTY (step, epoch, ETA, images/s,
 * the three VICReg terms), plain lines at a modest rate otherwise (logs, CI).
 */
export interface ProgressInfo {
  step: number;
  epoch: number;
  imagesPerSec: number;
  lr: number;
  terms: { loss: number; invariance: number; variance: number; covariance: number } | null;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean | void;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;
  /** Rate measured from the first update (not from construction: evaluation may come first). */
  private t0 = 0;
  private step0: number;

  constructor(
    readonly totalSteps: number,
    startStep: number,
    readonly epochs: number,
    private stream: ProgressStream = process.stderr,
    /** Seconds between plain lines when stderr is not a TTY. */
    private plainEvery = 15,
  ) {
    this.tty = !!stream.isTTY;
    this.step0 = startStep;
  }

  private text(p: ProgressInfo): string {
    if (!this.t0) {
      this.t0 = performance.now();
      this.step0 = p.step;
    }
    const elapsed = (performance.now() - this.t0) / 1000;
    const done = p.step - this.step0;
    const rate = done > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.totalSteps - p.step) / rate : NaN;
    const t = p.terms;
    const terms = t ? `loss ${t.loss.toFixed(3)} inv ${t.invariance.toFixed(4)} var ${t.variance.toFixed(4)} cov ${t.covariance.toFixed(4)}` : 'loss …';
    return `step ${p.step}/${this.totalSteps} ep ${Math.min(p.epoch + 1, this.epochs)}/${this.epochs} ETA ${formatDuration(eta)} ${p.imagesPerSec.toFixed(0)} img/s lr ${p.lr.toPrecision(3)} ${terms}`;
  }

  update(p: ProgressInfo, force = false): void {
    const now = performance.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 100) - 110));
      const frac = Math.min(1, p.step / this.totalSteps);
      const fill = Math.round(frac * width);
      let line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${this.text(p)}`;
      const cols = this.stream.columns ?? 160;
      if (line.length > cols - 1) line = line.slice(0, cols - 1);
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    if (!force && now - this.lastDraw < this.plainEvery * 1000) return;
    this.lastDraw = now;
    this.stream.write(`${this.text(p)}\n`);
  }

  /** A message on its own line (the bar is redrawn by the next update). */
  log(msg: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
    this.stream.write(`${msg}\n`);
  }

  finish(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
