/** MurmurHash3's 32-bit finaliser (an avalanche mix of one word), unsigned. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A four-letter tag as one 32-bit word (big-endian ASCII): 'MLMM' -> 0x4d4c4d4d. */
function tagWord(tag: string): number {
  if (!/^[\x20-\x7e]{4}$/.test(tag))
    throw new RangeError(`seed tag must be 4 ASCII characters, got "${tag}"`);
  return (
    ((tag.charCodeAt(0) << 24) | (tag.charCodeAt(1) << 16) | (tag.charCodeAt(2) << 8) | tag.charCodeAt(3)) >>>
    0
  );
}

/**
 * The one way minnow derives a stream's seed from the run's seed: the run seed, a four-letter tag naming
 * the stream ('MLMM' masking, 'SQNC' corpus order, 'EPCH' fine-tuning order, ...) and counters (a step,
 * an epoch, an example index; each up to 2^53) are mixed with fmix32. Streams with different tags or
 * counters are unrelated; the same inputs always give the same seed.
 */
export function deriveSeed(seed: number, tag: string, ...counters: number[]): number {
  let h = fmix32((seed >>> 0) ^ tagWord(tag));
  for (const c of counters) {
    h = fmix32(h ^ Math.imul(c >>> 0, 0x9e3779b1));
    h = fmix32(h ^ Math.floor(c / 4294967296));
  }
  return h;
}

/**
 * Seeded pseudo-random numbers. Every entry point takes a seed; nothing in minnow calls Math.random.
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, passes PractRand,
 * and its state is four 32-bit words, so it can be saved in a checkpoint and restored exactly.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 expands the seed into the four state words.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller; one of the pair is discarded to keep the state simple). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** The full state, for checkpoints. */
  state(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  static fromState(s: readonly number[]): Rng {
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = [s[0] | 0, s[1] | 0, s[2] | 0, s[3] | 0];
    return r;
  }
}
