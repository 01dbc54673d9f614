/**
 * Test support: presets shrunk to a test's size (hidden 32, 2 heads, FFN 64, 64 positions), so that a
 * training run in a test takes seconds. Not built into dist/.
 */
import { type BertConfig, preset } from './config.js';

export const SMALL_SHAPE = Object.freeze({
  hidden_size: 32,
  num_attention_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 64,
});

/** Preset `name` at SMALL_SHAPE, with `over` on top. */
export function smallPreset(name: string, over: Partial<BertConfig> = {}): BertConfig {
  return { ...preset(name), ...SMALL_SHAPE, ...over };
}
