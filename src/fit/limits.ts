/**
 * `minnow fit`'s two limits as a user writes them: a size (--max-bytes 500k, 1.5m, 500000: decimal units,
 * as `ls --si` and minnow's kB) and a wall-clock budget (--budget 30m, 90s, 1.5h), and the clock that
 * tells whether the budget is spent.
 */
import { UserError } from '../util/errors.js';
import { formatSeconds } from '../util/progress.js';

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 };

/** "500k" -> 500000, "1.5m" -> 1500000, "500000" -> 500000; a one-line error naming `flag` otherwise. */
export function parseBytes(raw: string, flag = '--max-bytes'): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isFinite(bytes))
    throw new UserError(`${flag} ${raw}: expected a size such as 500000, 500k or 1.5m (bytes, kB, MB)`);
  if (!Number.isInteger(Math.round(bytes * 1e6) / 1e6) || bytes < 1)
    throw new UserError(`${flag} ${raw}: expected a whole number of bytes, at least 1`);
  return Math.round(bytes);
}

const TIME_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, min: 60, h: 3600 };

/** "30m" -> 1800, "90s" -> 90, "1.5h" -> 5400, "45" -> 45 (seconds); 0 and anything else are refused. */
export function parseBudget(raw: string, flag = '--budget'): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? TIME_UNITS[m[2].toLowerCase()] : undefined;
  const seconds = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isFinite(seconds))
    throw new UserError(`${flag} ${raw}: expected a duration such as 30m, 90s or 1.5h`);
  if (seconds <= 0) throw new UserError(`${flag} ${raw}: must be more than 0 (e.g. 10m, 90s)`);
  return seconds;
}

/** Seconds as the flags write them: 600 -> "10m", 90 -> "90s", 5400 -> "1.5h". */
export function budgetText(seconds: number): string {
  if (seconds >= 3600 && seconds % 360 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 6 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Bytes as the flags write them: 500000 -> "500k", 1500000 -> "1.5m", 123456 -> "123456". */
export function bytesText(bytes: number): string {
  if (bytes >= 1e6 && bytes % 1e5 === 0) return `${bytes / 1e6}m`;
  if (bytes >= 1e3 && bytes % 100 === 0) return `${bytes / 1e3}k`;
  return String(bytes);
}

/** A wall-clock budget started now: how much is spent, and whether all of it is. */
export class Budget {
  private readonly start: number;
  constructor(
    readonly seconds: number,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.start = now();
  }

  elapsed(): number {
    return this.now() - this.start;
  }

  spent(): boolean {
    return this.elapsed() >= this.seconds;
  }

  /** Date.now() at which the budget is spent. */
  deadline(): number {
    return Date.now() + (this.seconds - this.elapsed()) * 1000;
  }

  /** "10m05s of the 10m budget" */
  describe(): string {
    return `${formatSeconds(this.elapsed())} of the ${budgetText(this.seconds)} budget`;
  }
}
