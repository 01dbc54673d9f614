/**
 * Boring logging: a one-line progress bar on stderr (only when it is a TTY, redrawn at most 10 times a
 * second) and machine-readable metrics as JSON lines appended to a file.
 */
import { appendFileSync } from 'node:fs';

export class Progress {
  private last = 0;
  private readonly start = performance.now();
  private readonly tty = !!process.stderr.isTTY && !process.env.CI;

  constructor(
    readonly label: string,
    readonly total: number,
  ) {}

  /** Redraw with `done` units finished and extra fields, e.g. { loss: '2.31', 'tok/s': '35k' }. */
  update(done: number, fields: Record<string, string> = {}): void {
    const now = performance.now();
    if (!this.tty || (now - this.last < 100 && done < this.total)) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : Number.NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}  ${extra}  ETA ${formatSeconds(eta)}`;
    process.stderr.write(
      `\r${line.slice(0, (process.stderr.columns ?? 120) - 1).padEnd(Math.min(120, (process.stderr.columns ?? 120) - 1))}`,
    );
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** Appends one JSON object per line; undefined path means no file. */
export class JsonLog {
  constructor(readonly path?: string) {}
  write(record: Record<string, unknown>): void {
    if (this.path)
      appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}

/** A plain status line on stderr (always; progress bars are TTY-only). */
export function info(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
