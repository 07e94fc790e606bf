/**
 * The one seeded random source of the project (docs/design.md, 'Seeds').
 *
 * Everything random — data rendering, splits, sampling, augmentation, weight
 * initialisation — draws from an {@link Rng}. Independent consumers get their
 * own stream with {@link Rng.fork}, keyed by a label, so adding a draw in one
 * place never shifts the numbers another place sees.
 *
 * The generator is xoshiro128** (Blackman & Vigna): 128 bits of state, fast in
 * 32-bit integer JavaScript, and good enough statistically for simulation.
 * Seeds are expanded with splitmix32 so that nearby seeds give unrelated
 * streams.
 *
 * @module
 */

/** One step of splitmix32: a 32-bit mixer used to expand seeds. */
function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

/** A stable 32-bit hash of a string (FNV-1a followed by a splitmix finaliser). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32(h)[0];
}

/** Seeds given as numbers must be safe integers, so that they round-trip through JSON. */
function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`seed must be a safe integer, got ${seed}`);
  }
}

/** Where a generator stands, as JSON (a checkpoint stores it to resume the same stream). */
export interface RngState {
  seed: number;
  words: [number, number, number, number];
  spareNormal: number | null;
}

/** A seeded pseudo-random generator (xoshiro128**). */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spareNormal: number | null = null;
  /** The seed this generator was made from (for records and forks). */
  readonly seed: number;

  constructor(seed: number) {
    checkSeed(seed);
    this.seed = seed;
    // Fold both halves of a 53-bit seed into the expansion.
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [value, next] = splitmix32(state);
      words.push(value);
      state = next;
    }
    [this.#s0, this.#s1, this.#s2, this.#s3] = words;
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /**
   * A new generator for a named purpose, independent of this one's draws:
   * `rng.fork("augment")` gives the same stream whatever was drawn from `rng`.
   */
  fork(label: string): Rng {
    return new Rng(((this.seed >>> 0) ^ hashString(label)) >>> 0);
  }

  /** This generator's position in its stream. */
  state(): RngState {
    return {
      seed: this.seed,
      words: [this.#s0, this.#s1, this.#s2, this.#s3],
      spareNormal: this.#spareNormal,
    };
  }

  /** A generator that continues the stream where `state` was taken. */
  static fromState(state: RngState): Rng {
    const ok = Array.isArray(state?.words) && state.words.length === 4 &&
      state.words.every((w) => Number.isInteger(w)) &&
      (state.spareNormal === null || typeof state.spareNormal === "number");
    if (!ok) throw new Error(`Rng.fromState: expected {seed, words: [4 integers], spareNormal}`);
    const rng = new Rng(state.seed);
    [rng.#s0, rng.#s1, rng.#s2, rng.#s3] = state.words;
    rng.#spareNormal = state.spareNormal;
    return rng;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.float();
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new Error(`Rng.int needs an integer n in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal draw (Marsaglia polar method, caching the spare value). */
  normal(mean = 0, std = 1): number {
    if (this.#spareNormal !== null) {
      const z = this.#spareNormal;
      this.#spareNormal = null;
      return mean + std * z;
    }
    let u: number, v: number, s: number;
    do {
      u = this.float() * 2 - 1;
      v = this.float() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spareNormal = v * m;
    return mean + std * u * m;
  }

  /** One element of a non-empty array, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.choice on an empty array");
    return items[this.int(items.length)];
  }

  /** An index drawn with probability proportional to `weights`. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new Error("Rng.weighted needs positive total weight");
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** `k` distinct elements of `items`, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) {
      throw new Error(`Rng.sample: cannot draw ${k} of ${items.length} without replacement`);
    }
    return this.shuffle(items.slice()).slice(0, k);
  }

  /** `n` floats from N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** `n` floats from U[low, high). */
  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
