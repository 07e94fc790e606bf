/**
 * AAIPR (Yin et al., arXiv 1712.01493) as an experiment spec: the rows of Tables 2–3 on three
 * synthetic worlds (Duke-, Market-, PETA-like), the Fig. 3 λ sweeps and the faithful-mode
 * confirmations, the paper's numbers, and claims C1–C10 of lib/papers/aaipr/README.md ('Claims')
 * as paired checks over seeds. `deno task reproduce --paper aaipr` runs it.
 *
 * @module
 */
import { gt } from "../../experiments/claims.ts";
import type { ClaimPart, ClaimSpec, PaperSpec } from "../../experiments/spec.ts";
import {
  type AaiprConfig,
  type AaiprWorld,
  CPU_BASE,
  lambdaDRow,
  lambdaGRow,
  METRICS,
  PAPER_BASE,
  QUICK_DELTA,
  rowId,
  ROWS,
  withWorldSeed,
  WORLDS,
} from "./config.ts";
import { loadAaiprData } from "./data.ts";
import { runAaipr } from "./run.ts";

const paper = (row: string, metric: string): number | undefined =>
  ROWS.find((r) => r.id === row)?.paper?.[metric];

/** `a − b` of one world on `metric`, with the paper's difference beside it. */
function diff(world: AaiprWorld, a: string, b: string, metric = "r1"): ClaimPart {
  const ra = rowId(world, a), rb = rowId(world, b);
  const pa = paper(ra, metric), pb = paper(rb, metric);
  return gt(ra, rb, metric, pa !== undefined && pb !== undefined ? { paper: pa - pb } : {});
}

const DUKE_MARKET: AaiprWorld[] = ["duke", "market"];

/** The claims of lib/papers/aaipr/README.md, 'Claims'. */
export const CLAIMS: ClaimSpec[] = [
  {
    id: "C1",
    text: "Adversarial alignment helps: A2Img > w/o adv on rank-1 and mAP, every world",
    source: "Table 2",
    parts: WORLDS.flatMap((w) => [diff(w, "a2img", "woadv"), diff(w, "a2img", "woadv", "mAP")]),
  },
  {
    id: "C2",
    text: "Img2A > w/o adv on rank-1, every world",
    source: "Table 3",
    parts: WORLDS.map((w) => diff(w, "img2a", "woadv")),
  },
  {
    id: "C3",
    text: "A2Img > Both on rank-1, every world",
    source: "Table 3",
    parts: WORLDS.map((w) => diff(w, "a2img", "both")),
  },
  {
    id: "C4",
    text: "Concepts beat generated images: A2Img and w/o adv > Images (a generated image as the " +
      "query) on rank-1, every world",
    source: "Table 3",
    parts: WORLDS.flatMap((w) => [diff(w, "a2img", "images"), diff(w, "woadv", "images")]),
  },
  {
    id: "C5",
    text: "The better direction depends on the data: Img2A − A2Img is larger on PETA-like than " +
      "on Duke- and Market-like (rank-1)",
    source: "Table 3, §4.5",
    parts: DUKE_MARKET.map((w): ClaimPart => ({
      label: `(img2a − a2img) PETA-like − (img2a − a2img) ${w}-like, r1`,
      value: (m) =>
        (m("peta-img2a", "r1") - m("peta-a2img", "r1")) -
        (m(rowId(w, "img2a"), "r1") - m(rowId(w, "a2img"), "r1")),
      paper: (43.6 - 39.0) - (w === "duke" ? 43.7 - 46.6 : 36.0 - 40.3),
    })),
  },
  {
    id: "C6",
    text: "Adversarial alignment ≥ MMD and ≥ CORAL on rank-1 (Duke-, Market-like)",
    source: "Table 2",
    parts: DUKE_MARKET.flatMap((w) => [diff(w, "a2img", "mmd"), diff(w, "a2img", "coral")]),
  },
  {
    id: "C7",
    text: "MMD and CORAL > w/o adv on rank-1 (Duke-, Market-like)",
    source: "Table 2",
    parts: DUKE_MARKET.flatMap((w) => [diff(w, "mmd", "woadv"), diff(w, "coral", "woadv")]),
  },
  {
    id: "C8",
    text: "Joint-space learning beats attribute prediction: w/o adv and A2Img > DeepMAR-lite on " +
      "rank-1, every world",
    source: "Table 2",
    parts: WORLDS.flatMap((w) => [diff(w, "woadv", "deepmar"), diff(w, "a2img", "deepmar")]),
  },
  {
    id: "C9",
    text: "Fig. 3: λ_G = 1e-3 beats a very large λ_G (1) on rank-1 (λ_D = 1); λ_D changes " +
      "rank-1 by less than 2 points over 0.5–2",
    source: "Fig. 3",
    parts: [
      gt(lambdaGRow(1e-3), lambdaGRow(1), "r1"),
      {
        label: "2 − |r1(λ_D = 2) − r1(λ_D = 0.5)|",
        value: (m) => 2 - Math.abs(m(lambdaDRow(2), "r1") - m("duke-a2img", "r1")),
      },
    ],
  },
  {
    id: "C10",
    text: "Mechanism: the adversary makes C^A and C^I harder to tell apart (two-sample accuracy " +
      "of A2Img, Img2A and Both below w/o adv's), every world",
    source: "implied by §3.2 (not measured in the paper)",
    parts: WORLDS.flatMap((w) =>
      ["a2img", "img2a", "both"].map((v) => gt(rowId(w, "woadv"), rowId(w, v), "twoSample"))
    ),
  },
];

/** The spec `deno task reproduce --paper aaipr` runs. */
export const spec: PaperSpec<AaiprConfig> = {
  paper: "aaipr",
  title: "Learning a Semantically Discriminative Joint Space for Attribute Based Person Re-id",
  version: "1",
  base: { cpu: CPU_BASE, paper: PAPER_BASE },
  quick: QUICK_DELTA,
  rows: ROWS,
  claims: CLAIMS,
  // README.md, 'Claims': a claim holds when the paired mean beats one standard error of the
  // paired differences; a reversal within that band is inconclusive, beyond it ✗.
  claimRule: { test: "se", k: 1, reversal: "beyondNoise" },
  seeds: 5,
  metrics: [...METRICS],
  withWorldSeed,
  async runCell(config, seed, context) {
    const data = await loadAaiprData(config.data, context.log);
    context.note("data", data.stats);
    const run = await runAaipr(config, data, seed, context.rng, {
      history: context.history,
      log: context.log,
      // Stored beside the test numbers: the calibration's split, for the record.
      validation: true,
    });
    context.note("stage1", {
      lr: run.stage1.lr,
      seconds: run.stage1.seconds,
      trained: run.stage1.trained,
    });
    context.note("cmc", run.test.score.result.cmc.slice(0, 20));
    return run.metrics;
  },
};
