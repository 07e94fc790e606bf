/**
 * cmGAN (Dai et al., IJCAI 2018) as an experiment spec: base configs of both scales, the
 * ablation rows of Table 1 (rows 13–15, plus the pixel floor, the no-adversary run of
 * Fig. 5 and the margin sweep of Fig. 3), the paper's numbers, and the claims of lib/papers/cmgan/README.md ('Claims') as
 * paired checks over seeds. `deno task reproduce --paper cmgan` runs it.
 *
 * @module
 */
import { chain, gt } from "../../experiments/claims.ts";
import type { ClaimPart, ClaimSpec, MetricLookup, PaperSpec } from "../../experiments/spec.ts";
import {
  type CmganConfig,
  type CmganRow,
  CPU_BASE,
  marginRow,
  PAPER_BASE,
  QUICK_DELTA,
  ROWS,
  TABLE_METRICS,
  withWorldSeed,
} from "./config.ts";
import { loadCmganData } from "./data.ts";
import { disposeTrained, runCmgan } from "./run.ts";

const paper = (row: CmganRow, metric: string): number =>
  ROWS.find((r) => r.id === row)!.paper![metric] ?? NaN;

/**
 * lib/papers/cmgan/README.md, 'Claims': a gap between rows counts when it is at least 2 points (and above the noise);
 * the parts comparing rows on a metric carry this floor.
 */
const MIN_GAP = 2;

/** The three learned variants of Table 1 (rows 13–15). */
const LEARNED: CmganRow[] = ["idOnly", "tripletOnly", "full"];

/** F > T > I on `metric`, as two paired parts with the paper's gaps. */
function ordering(metric: string): ClaimPart<CmganRow>[] {
  const [ti, ft] = chain(["idOnly", "tripletOnly", "full"], metric, { minGap: MIN_GAP });
  ti.paper = paper("tripletOnly", metric) - paper("idOnly", metric);
  ft.paper = paper("full", metric) - paper("tripletOnly", metric);
  return [ft, ti];
}

/** `a`'s metric minus `b`'s metric of the same row, for each learned variant. */
function withinRow(a: string, b: string, label: string): ClaimPart<CmganRow>[] {
  return LEARNED.map((row) => ({
    label: `${row}: ${label}`,
    value: (m) => m(row, a) - m(row, b),
    paper: paper(row, a) - paper(row, b),
  }));
}

/** A number of row `row` must lie within `half` of `centre`: value = half − |x − centre|. */
function near(row: CmganRow, metric: string, centre: number, half: number, label: string) {
  return {
    label,
    value: (m: MetricLookup<CmganRow>) => half - Math.abs(m(row, metric) - centre),
  } satisfies ClaimPart<CmganRow>;
}

/** The claims of lib/papers/cmgan/README.md, 'Claims'. */
export const CLAIMS: ClaimSpec<CmganRow>[] = [
  {
    id: "C1",
    text: "Full > triplet-only > ID-only, all-search single-shot rank-1",
    source: "Table 1",
    parts: ordering("all_ss_r1"),
  },
  {
    id: "C2",
    text: "Same ordering, all-search single-shot mAP",
    source: "Table 1",
    parts: ordering("all_ss_mAP"),
  },
  {
    id: "C3",
    text: "Same ordering, indoor-search single-shot rank-1 and mAP",
    source: "Table 1",
    parts: [...ordering("indoor_ss_r1"), ...ordering("indoor_ss_mAP")],
  },
  {
    id: "C4",
    text: "Same ordering, multi-shot rank-1 (all and indoor)",
    source: "Table 1",
    parts: [...ordering("all_ms_r1"), ...ordering("indoor_ms_r1")],
  },
  {
    id: "C5",
    text: "The triplet loss contributes more than the ID loss: (F − I) > (F − T)",
    source: "§4.4",
    parts: ["all_ss_r1", "all_ss_mAP"].map((metric) => ({
      label: `(full − idOnly) − (full − tripletOnly), ${metric}`,
      value: (m) =>
        (m("full", metric) - m("idOnly", metric)) -
        (m("full", metric) - m("tripletOnly", metric)),
      paper: paper("tripletOnly", metric) - paper("idOnly", metric),
      minGap: MIN_GAP,
    })),
  },
  {
    id: "C6",
    text: "Indoor-search ≥ all-search rank-1 for every variant (single- and multi-shot)",
    source: "Table 1",
    parts: [
      ...withinRow("indoor_ss_r1", "all_ss_r1", "indoor − all, SS r1"),
      ...withinRow("indoor_ms_r1", "all_ms_r1", "indoor − all, MS r1"),
    ],
  },
  {
    id: "C7",
    text: "Multi-shot ≥ single-shot rank-1 for every variant (all and indoor)",
    source: "Table 1",
    parts: [
      ...withinRow("all_ms_r1", "all_ss_r1", "MS − SS, all r1"),
      ...withinRow("indoor_ms_r1", "indoor_ss_r1", "MS − SS, indoor r1"),
    ],
  },
  {
    id: "C8",
    text: "l_dis settles near ln 2 ≈ 0.7 with D near chance; l_gen falls (Fig. 4)",
    source: "Fig. 4, §4.5",
    parts: [
      near("full", "l_dis_tail", 0.7, 0.15, "full: 0.15 − |mean l_dis (last 30%) − 0.7|"),
      near("full", "d_acc_tail", 0.5, 0.1, "full: 0.1 − |D accuracy (last 30%) − 0.5|"),
      {
        label: "full: l_gen (first 10%) − l_gen (last 10%)",
        value: (m) => m("full", "l_gen_drop"),
      },
    ],
  },
  {
    id: "C9",
    text: "The total loss falls more slowly with the discriminator than without (Fig. 5)",
    source: "Fig. 5, §4.5",
    parts: [{
      label: "drop of l_total: noAdv − full",
      value: (m) => m("noAdv", "l_total_drop") - m("full", "l_total_drop"),
    }],
  },
  {
    id: "C10",
    text: "The adversary helps: full > no discriminator loss (implied by §4.5; no number given)",
    source: "§4.5",
    parts: [
      gt("full", "noAdv", "all_ss_r1", { minGap: MIN_GAP }),
      gt("full", "noAdv", "all_ss_mAP", { minGap: MIN_GAP }),
    ],
  },
  {
    id: "C11",
    text: "Performance rises with the margin ξ up to ≈ 1.4 (ξ ∈ {1.2, 1.4, 1.5} beat ξ = 0.7)",
    source: "Fig. 3",
    parts: ["all_ss_r1", "all_ss_mAP"].flatMap((metric) =>
      ([marginRow(1.2), "full", marginRow(1.5)] as const).map((row) =>
        gt(row, marginRow(0.7), metric, { minGap: MIN_GAP })
      )
    ),
  },
  {
    id: "C12",
    text: "Every learned variant ≫ the handcrafted floor: r1 ≥ 3× the pixel baseline's",
    source: "Table 1 rows 1 vs 13–15",
    parts: LEARNED.map((row) => ({
      label: `${row} r1 − 3 × pixels r1 (all SS)`,
      value: (m) => m(row, "all_ss_r1") - 3 * m("pixels", "all_ss_r1"),
    })),
  },
];

/** The spec `deno task reproduce --paper cmgan` runs. */
export const spec: PaperSpec<CmganConfig, CmganRow> = {
  paper: "cmgan",
  title: "Cross-Modality Person Re-Identification with Generative Adversarial Training",
  version: "1",
  base: { cpu: CPU_BASE, paper: PAPER_BASE },
  quick: QUICK_DELTA,
  rows: ROWS,
  claims: CLAIMS,
  // lib/papers/cmgan/README.md, 'Claims': a gap must exceed the noise (and 2 points, MIN_GAP); we take one standard
  // deviation of the seed-paired differences (stricter than a standard error). Only an
  // ordering reversed by more than the noise is "not reproduced"; within it, inconclusive.
  claimRule: { test: "sd", k: 1, reversal: "beyondNoise" },
  seeds: 5,
  metrics: TABLE_METRICS,
  withWorldSeed,
  async runCell(config, _seed, context) {
    const data = await loadCmganData(config.data, context.log);
    context.note("data", {
      trainImages: data.train.indices.length,
      valImages: data.val.indices.length,
      testImages: data.test.indices.length,
      trainIds: data.numClasses,
    });
    const run = await runCmgan(config, data, context.rng, {
      history: context.history,
      log: context.log,
    });
    try {
      context.note("queries", run.split.query.length);
      context.note("galleryCandidates", run.split.gallery.length);
      return run.metrics;
    } finally {
      disposeTrained(run.trained);
    }
  },
};
