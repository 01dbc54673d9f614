/**
 * The budget curve's record: results/curve.json holds every point measured so far, and a later run of
 * scripts/budget-curve.ts adds to it instead of replacing it. A point is measured from its runs (--runs)
 * when they are there; otherwise the recorded point is carried, so a fresh clone (no runs/) can add one
 * point, or regenerate the tables and plots with --done-only, without losing the points measured in earlier
 * sittings. Recorded points are carried only when they were scored the same way (the same tasks,
 * fine-tuning seeds and SST-2 cut); otherwise the record is set aside, with the reason.
 */
import type { Scores } from './curve-finetune.js';

export interface Point extends Scores {
  model: string;
  objective: string; // 'none' at 0 minutes
  minutes: number;
  tokens: number;
  wall_s: number | null; // the pre-training run's own wall time (null when resumed across sittings)
  valid: Record<string, number> | null;
}

/** How a curve's points were scored: points scored otherwise do not stand on its scale. */
export interface Scoring {
  tasks: string[];
  finetune_seeds: number[];
  sst2_train: number;
}

/** The identity of a point: one model, objective and budget. */
export const pointKey = (p: Pick<Point, 'model' | 'objective' | 'minutes'>) =>
  `${p.model} ${p.objective} ${p.minutes}`;

/**
 * The points of a recorded curve (the parsed results/curve.json, or undefined when there is none) that
 * stand on the scale of `scoring`; when they do not, none, and why.
 */
export function recordedPoints(
  record: (Partial<Scoring> & { points?: Point[] }) | undefined,
  scoring: Scoring,
): { points: Point[]; setAside?: string } {
  if (!record?.points?.length) return { points: [] };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const differs = (Object.keys(scoring) as (keyof Scoring)[]).filter((k) => !same(record[k], scoring[k]));
  if (differs.length)
    return {
      points: [],
      setAside: `its ${record.points.length} points were scored with other ${differs.map((k) => `${k} (${JSON.stringify(record[k])} there, ${JSON.stringify(scoring[k])} now)`).join(', ')}`,
    };
  return { points: record.points };
}

/**
 * The curve to report: every point measured now, and every recorded point not measured now (carried), in
 * one order: by model, then budget, then objective, each in the order of `models` and `objectives`, with
 * names these lists lack after them in the order they first appear. Returns the points, the carried ones,
 * and the full model and objective lists.
 */
export function mergeCurve(
  measured: Point[],
  recorded: Point[],
  models: string[],
  objectives: string[],
): { points: Point[]; carried: Point[]; models: string[]; objectives: string[] } {
  const now = new Set(measured.map(pointKey));
  const carried = recorded.filter((p) => !now.has(pointKey(p)));
  const all = [...measured, ...carried];
  const union = (first: string[], more: string[]) => [...new Set([...first, ...more])];
  const ms = union(
    models,
    all.map((p) => p.model),
  );
  const os = union(
    objectives,
    all.filter((p) => p.objective !== 'none').map((p) => p.objective),
  );
  const rank = (p: Point) => [
    ms.indexOf(p.model),
    p.minutes,
    p.objective === 'none' ? -1 : os.indexOf(p.objective),
  ];
  const points = all.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  return { points, carried, models: ms, objectives: os };
}
