/**
 * The papers `deno task reproduce` knows. Each entry points at the module exporting the
 * paper's experiment spec (`spec`, see lib/experiments/spec.ts); modules are imported
 * only when their paper runs, in the parent and in each grid worker.
 *
 * @module
 */
import type { PaperEntry } from "../experiments/papers.ts";

/** The registered papers (the five papers are added as their specs land). */
export const PAPERS: readonly PaperEntry[] = [
  {
    name: "baseline",
    title: "Baseline: ID cross-entropy and batch-hard triplet on Market-1501",
    module: new URL("./baseline/spec.ts", import.meta.url).href,
  },
  {
    name: "cmgan",
    title: "cmGAN: cross-modality person re-identification with generative adversarial training",
    module: new URL("./cmgan/spec.ts", import.meta.url).href,
    notebook: "notebooks/cmgan.ipynb",
  },
  {
    name: "sal",
    title: "SAL: symbiotic adversarial learning for attribute-based person search",
    module: new URL("./sal/spec.ts", import.meta.url).href,
    notebook: "notebooks/sal.ipynb",
  },
  {
    name: "tjaidl",
    title: "TJ-AIDL: transferable joint attribute-identity deep learning for unsupervised re-id",
    module: new URL("./tjaidl/spec.ts", import.meta.url).href,
    notebook: "notebooks/tjaidl.ipynb",
  },
  {
    name: "aaipr",
    title: "AAIPR: attribute-image person re-id in an adversarially aligned joint space",
    module: new URL("./aaipr/spec.ts", import.meta.url).href,
    notebook: "notebooks/aaipr.ipynb",
  },
  {
    name: "paenet",
    title: "PAENet: progressive attribute embedding for accurate cross-modality person re-id",
    module: new URL("./paenet/spec.ts", import.meta.url).href,
    notebook: "notebooks/paenet.ipynb",
  },
];

/** Notebooks that belong to no paper but are executed by `reproduce` (the introduction). */
export const EXTRA_NOTEBOOKS: readonly string[] = ["notebooks/00_introduction.ipynb"];
