/** What `minnow fit` reports: a row per stage, the shipped file, and the whole outcome (OUT/fit.json). */
import type { FitData } from './data.js';
import type { Int8Size } from './sizes.js';

/** One line of the summary: a stage that ran, was kept from an earlier run, was skipped or left out. */
export interface FitRow {
  stage: string;
  status: 'ran' | 'earlier' | 'skipped' | 'excluded';
  score?: number;
  int8?: Int8Size;
  seconds?: number;
  cpuSeconds?: number;
  picked: boolean;
  note: string;
}

/** What the shipped int8 file measured (the export stage's result). */
export interface ExportSummary {
  file: string;
  bytes: number;
  gzipBytes: number;
  totalBytes: number;
  written: boolean;
  /** The int8 file's dev score through the runtime, its fp32 twin's, and the difference. */
  score?: number;
  fp32Score?: number;
  drop?: number;
}

export interface FitResult {
  out: string;
  exportDir: string;
  card: string;
  task: string;
  data: {
    file: string;
    trainExamples: number;
    devExamples: number;
    devSource: FitData['devSource'];
    devFile: string;
  };
  classes: string[] | null;
  maxBytes: number;
  budgetSeconds: number;
  seed: number;
  rows: FitRow[];
  winner: string;
  winnerScore: number;
  baselineScore?: number;
  message: string;
  export: ExportSummary;
  /** Wall seconds of this run (a resumed fit: not counting the earlier runs' stages). */
  seconds: number;
  command?: string;
}
