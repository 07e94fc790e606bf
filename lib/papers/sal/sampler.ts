/**
 * Unseen-attribute sampling (README.md, 'Unseen sampling'): new attribute vectors drawn each
 * iteration from the training frequencies, binary dimensions and one-hot groups apart.
 *
 * @see notebooks/sal.ipynb §3
 * @module
 */
import type { Rng } from "../../runtime/random.ts";
import type { SalConfig } from "./config.ts";

/** What the sampler needs to know of the training data. */
export interface SamplerPriors {
  attrDim: number;
  /** Fraction of training images with each dimension on. */
  priors: ArrayLike<number>;
  /** One-hot groups (index lists); every other dimension is binary. */
  groups: number[][];
  binaryDims: number[];
  /** Mean number of positive dimensions per training image. */
  meanPositives: number;
}

/**
 * `n` attribute vectors, row-major n × attrDim. "bernoulli" (the paper): each binary
 * dimension on with its training frequency, each group one-hot from its frequencies.
 * "fixedCount" (the code): exactly ⌊k̄ − #groups⌋ binary dimensions on, drawn without
 * replacement ∝ frequency, groups as before. Neither checks that a vector is unseen.
 */
export function sampleUnseen(
  p: SamplerPriors,
  n: number,
  rng: Rng,
  mode: SalConfig["loss"]["sampler"],
): Float32Array {
  const d = p.attrDim;
  const out = new Float32Array(n * d);
  const binaryWeights = p.binaryDims.map((j) => p.priors[j]);
  const count = Math.max(0, Math.floor(p.meanPositives - p.groups.length));
  for (let i = 0; i < n; i++) {
    if (mode === "bernoulli") {
      for (const j of p.binaryDims) if (rng.bernoulli(p.priors[j])) out[i * d + j] = 1;
    } else {
      const w = [...binaryWeights];
      for (let c = 0; c < Math.min(count, w.filter((x) => x > 0).length); c++) {
        const k = rng.weighted(w);
        out[i * d + p.binaryDims[k]] = 1;
        w[k] = 0;
      }
    }
    for (const g of p.groups) {
      const w = g.map((j) => p.priors[j]);
      if (w.some((x) => x > 0)) out[i * d + g[rng.weighted(w)]] = 1;
    }
  }
  return out;
}
