/**
 * The last stage: the winner exported to OUT/export (exportModel: fp32 and int8 ONNX, a folder minnow's
 * predict, eval and serve run, transformers.js too), with the accuracy gate on the dev rows the stages
 * were scored on. The user's own data without a dev file was split in memory: its held-out rows are
 * written to STAGE/dev-held-out.jsonl for the gate (and for the user, to score on them again).
 */
import { join } from 'node:path';
import { DEFAULT_EXPORT, exportModel, spread } from '../infer/export-folder.js';
import { classifierInput } from '../infer/runtime.js';
import { formatBytes } from '../util/progress.js';
import { exportDir, stageDir } from './config.js';
import { pick } from './pick.js';
import { devDataSource } from './data.js';
import type { Stage, StageContext, StageOutput } from './stage.js';

export const exportStage: Stage = {
  name: 'export',
  what: 'export the winner (fp32 and int8 ONNX) with the int8 accuracy gate on dev',
  budgeted: false,
  // The winner, and when its stage finished: a resumed fit whose pick changed exports again.
  key({ earlier, config }) {
    const { winner } = pick(earlier.values(), config.maxBytes);
    return `${winner.stage}@${winner.finishedAt}`;
  },
  async run(ctx: StageContext): Promise<StageOutput> {
    const c = ctx.config;
    const { winner } = pick(ctx.earlier.values(), c.maxBytes);
    const model = join(stageDir(c.out, winner.stage), winner.candidate.model);
    // Static int8 is calibrated on training texts, so the gate's dev rows stay unseen.
    const texts = spread(ctx.data.train.examples, 1000).map(classifierInput);
    const res = await exportModel(model, exportDir(c.out), {
      ...DEFAULT_EXPORT,
      calibration: { texts, from: `${texts.length} training texts` },
      check: { src: devDataSource(ctx), split: 'dev' },
      maxPositions: c.maxPositions,
      threads: c.threads,
    });
    const counted = winner.candidate.int8;
    const shipped = res.variants.find((v) => v.variant === counted.variant)!;
    const fp32 = res.variants.find((v) => v.variant === counted.variant.replace('_quantized', ''))!;
    return {
      score: shipped.score,
      metrics: shipped.metrics,
      note: shipped.written
        ? `${winner.stage}: ${shipped.file} ${formatBytes(shipped.bytes)}, dev ${shipped.score?.toFixed(2)} (fp32 ${fp32.score?.toFixed(2)})`
        : `${winner.stage}: ${shipped.file} not written: int8 lost ${shipped.drop?.toFixed(2)} points on dev (fp32 ${fp32.score?.toFixed(2)})`,
      details: {
        winner: winner.stage,
        file: shipped.file,
        bytes: shipped.bytes,
        gzipBytes: shipped.gzipBytes,
        totalBytes: shipped.totalBytes,
        written: shipped.written,
        drop: shipped.drop,
        fp32Score: fp32.score,
        variants: res.variants.map(({ metrics: _, ...v }) => v),
        refused: res.refused,
        int8: res.int8?.note,
      },
    };
  },
};
