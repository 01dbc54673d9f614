/**
 * Boring logging: progress on stderr and machine-readable metrics as JSON lines appended to a file.
 * On a TTY (and not under CI) progress is a one-line bar redrawn at most 10 times a second; otherwise
 * (a pipe, a log file, CI) it is a plain line at most every 10 s, so a long run shows it is alive.
 */
import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

export interface ProgressOptions {
  /** Plain-line mode: minimum milliseconds between lines (default: env MINNOW_PROGRESS_INTERVAL_MS or 10,000). */
  intervalMs?: number;
  /** Clock in milliseconds (default performance.now). */
  now?: () => number;
  /** Where output goes (default process.stderr.write). */
  write?: (s: string) => void;
  /** Draw the bar (default: stderr is a TTY and env CI is unset); otherwise print plain lines. */
  tty?: boolean;
  /** Width of the bar line (default stderr's columns, or 120). */
  columns?: number;
}

const DEFAULT_INTERVAL_MS = 10_000;

function envInterval(): number {
  const v = process.env.MINNOW_PROGRESS_INTERVAL_MS;
  if (v === undefined || v.trim() === '') return DEFAULT_INTERVAL_MS;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_INTERVAL_MS;
}

export class Progress {
  private last = Number.NEGATIVE_INFINITY;
  private readonly start: number;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly write: (s: string) => void;
  private readonly columns: number | undefined;

  constructor(
    readonly label: string,
    readonly total: number,
    opts: ProgressOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.write = opts.write ?? ((s) => void process.stderr.write(s));
    this.tty = opts.tty ?? (!!process.stderr.isTTY && !process.env.CI);
    this.intervalMs = opts.intervalMs ?? envInterval();
    this.columns = opts.columns;
    this.start = this.now();
    if (!this.tty) this.last = this.start; // the first plain line comes one interval in
  }

  /** Report `done` units finished and extra fields, e.g. { loss: '2.31', 'tok/s': '35k' }. */
  update(done: number, fields: Record<string, string> = {}): void {
    const now = this.now();
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : Number.NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    if (!this.tty) {
      if (now - this.last < this.intervalMs) return;
      this.last = now;
      const pct = `${Math.floor(frac * 100)}%`;
      this.write(
        `${this.label} ${done}/${this.total} (${pct})${extra ? `  ${extra}` : ''}  elapsed ${formatSeconds(elapsed)}  ETA ${formatSeconds(eta)}\n`,
      );
      return;
    }
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const width = 24;
    const filled = Math.round(frac * width);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}  ${extra}  ETA ${formatSeconds(eta)}`;
    const columns = this.columns ?? process.stderr.columns ?? 120;
    this.write(`\r${line.slice(0, columns - 1).padEnd(Math.min(120, columns - 1))}`);
  }

  /** End the bar's line (TTY), so that what is printed next starts on a line of its own. */
  done(): void {
    if (this.tty) this.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** Decimal units, as `ls -h --si`: 950 B, 4.2 kB, 9.6 MB, 1.3 GB. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 999.95 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Appends one JSON object per line; undefined path means no file. A line a killed run left cut short is
 * closed before the first record, so that the record starts a line of its own.
 */
export class JsonLog {
  private checked = false;
  constructor(readonly path?: string) {}
  write(record: Record<string, unknown>): void {
    if (!this.path) return;
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
    const cut = !this.checked && endsMidLine(this.path);
    this.checked = true;
    appendFileSync(this.path, cut ? `\n${line}` : line);
  }
}

/** The records of a JsonLog file, in order ([] when there is none); lines a kill cut short are skipped. */
export function readJsonLog(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const records: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    try {
      const r: unknown = JSON.parse(line);
      if (r !== null && typeof r === 'object' && !Array.isArray(r))
        records.push(r as Record<string, unknown>);
    } catch {
      // a cut or empty line
    }
  }
  return records;
}

/** Whether a file exists and its last byte is not a newline. */
function endsMidLine(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** A plain status line on stderr (always). */
export function info(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
