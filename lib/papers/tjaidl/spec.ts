/**
 * TJ-AIDL (Wang et al., CVPR 2018) as an experiment spec: both scales, the rows of Tables 2–4
 * in both directions (A→B ≈ Market → Duke, B→A the reverse) for the `faithful` and
 * `stabilised` configurations, the λ2 sweep and the Step-II sensitivity rows, the paper's
 * numbers, and the claims of lib/papers/tjaidl/README.md ('Claims') as paired checks over seeds.
 * `deno task reproduce --paper tjaidl` runs it.
 *
 * @see notebooks/tjaidl.ipynb §5
 * @module
 */
import { chain, gt, gtMax } from "../../experiments/claims.ts";
import type { ClaimPart, ClaimSpec, PaperSpec } from "../../experiments/spec.ts";
import {
  CPU_BASE,
  type Direction,
  PAPER_BASE,
  QUICK_DELTA,
  rowId,
  ROWS,
  TABLE_METRICS,
  type TjaidlConfig,
  withWorldSeed,
} from "./config.ts";
import { loadTjaidlData } from "./data.ts";
import { runTjaidlCell } from "./run.ts";

const DIRECTIONS: Direction[] = ["AtoB", "BtoA"];
const paper = (row: string, metric: string) => ROWS.find((r) => r.id === row)?.paper?.[metric];
const arrow = (d: Direction) => (d === "AtoB" ? "A→B" : "B→A");

/** Parts of `make` for both directions, labelled with the direction. */
function both(make: (r: (name: string) => string, d: Direction) => ClaimPart[]): ClaimPart[] {
  return DIRECTIONS.flatMap((d) =>
    make((name) => rowId(d, name), d).map((p) => ({ ...p, label: `${arrow(d)}: ${p.label}` }))
  );
}

/** `a − b` with the paper's difference attached. */
function gtP(a: string, b: string, metric: string, margin = 0): ClaimPart {
  const pa = paper(a, metric), pb = paper(b, metric);
  return gt(a, b, metric, {
    margin,
    ...(pa !== undefined && pb !== undefined ? { paper: pa - pb } : {}),
  });
}

/** |a − b| on `metric` must be 0 (value −|Δ| > −tol). */
function same(a: string, b: string, metricA: string, metricB: string, tol = 1e-6): ClaimPart {
  return {
    label: `−|${a}.${metricA} − ${b}.${metricB}|`,
    value: (m) => -Math.abs(m(a, metricA) - m(b, metricB)),
    margin: -tol,
  };
}

/** The claims of lib/papers/tjaidl/README.md, 'Claims'. */
export const CLAIMS: ClaimSpec[] = [
  {
    id: "C1",
    text: "Attr-only < ID-only < TJ-AIDL (stabilised), R1 and mAP",
    source: "Table 3",
    parts: both((r) =>
      ["R1", "mAP"].flatMap((metric) =>
        chain([r("attrOnly"), r("idOnly"), r("full")], metric).map((p, i) => {
          const rows = [r("attrOnly"), r("idOnly"), r("full")];
          return gtP(rows[i + 1], rows[i], metric, p.margin ?? 0);
        })
      )
    ),
  },
  {
    id: "C2",
    text: "TJ-AIDL − ID-only is a clear gain: ≥ 2 R1 points",
    source: "Table 3",
    parts: both((r) => [gtP(r("full"), r("idOnly"), "R1", 2)]),
  },
  {
    id: "C3",
    text: "TJ-AIDL > max(Independent, Joint), R1 and mAP",
    source: "Table 2",
    parts: both((r) =>
      ["R1", "mAP"].map((metric) => gtMax(r("full"), [r("independent"), r("joint")], metric))
    ),
  },
  {
    id: "C4",
    text: "TJ-AIDL w/o adaptation already > max(Independent, Joint), R1 (IIA fusion alone helps)",
    source: "Tables 2 and 4",
    parts: both((r) => [gtMax(r("noAdapt"), [r("independent"), r("joint")], "R1")]),
  },
  {
    id: "C5",
    text: "w adaptation ≥ w/o adaptation (stabilised), R1 and mAP",
    source: "Table 4",
    parts: both((r) => ["R1", "mAP"].map((metric) => gtP(r("full"), r("noAdapt"), metric))),
  },
  {
    id: "C6",
    text:
      "The adaptation gain is larger when the harsher domain B is the target: gain(A→B) > gain(B→A), R1",
    source: "Table 4",
    parts: [{
      label: "(AB.full − AB.noAdapt) − (BA.full − BA.noAdapt), R1",
      value: (m) =>
        (m("AB.full", "R1") - m("AB.noAdapt", "R1")) - (m("BA.full", "R1") - m("BA.noAdapt", "R1")),
      paper: 4.7 - 1.1,
    }],
  },
  {
    id: "C8",
    text:
      "Attribute-consistency discrepancy: target > source after Step I; Step II lowers the target's",
    source: "Fig. 2",
    parts: both((r) => [
      {
        label: "D_target − D_source after Step I",
        value: (m) => m(r("noAdapt"), "D_tgt_stepI") - m(r("noAdapt"), "D_src_stepI"),
      },
      {
        label: "D_target before − after Step II",
        value: (m) => m(r("full"), "D_tgt_stepI") - m(r("full"), "D_tgt_stepII"),
      },
    ]),
  },
  {
    id: "C9",
    text: "Intra/inter-identity distance ratio on target ids: TJ-AIDL < ID-only and < Attr-only",
    source: "Fig. 4",
    parts: both((r) => [
      {
        label: "ID-only ratio − TJ-AIDL ratio",
        value: (m) => m(r("idOnly"), "ratio") - m(r("full"), "ratio"),
      },
      {
        label: "Attr-only ratio − TJ-AIDL ratio",
        value: (m) => m(r("attrOnly"), "ratio") - m(r("full"), "ratio"),
      },
    ]),
  },
  {
    id: "C10",
    text: "Sanity: ID-only ≡ TJ-AIDL's identity branch after Step I (same R1)",
    source: "Table 3 note",
    rule: { test: "mean" },
    parts: both((r) => [
      same(r("noAdapt"), r("idOnly"), "idBranch_R1", "R1"),
      same(r("faithful.noAdapt"), r("idOnly"), "idBranch_R1", "R1"),
    ]),
  },
  {
    id: "C12",
    text: "Collapse guard: Step I's L_att stays below the prior level (stabilised)",
    source: "README.md, 'Claims'",
    parts: both((r) => [{
      label: "prior level − L_att (2nd half of Step I)",
      value: (m) => m(r("noAdapt"), "attPrior") - m(r("noAdapt"), "stepI_Latt_tail"),
      minGap: 1,
    }]),
  },
  {
    id: "C12-F",
    text: "Collapse guard under the paper's settings (faithful: λ2 = 10, no warm starts)",
    source: "README.md, 'Claims'",
    parts: both((r) => [{
      label: "prior level − L_att (2nd half of Step I), faithful",
      value: (m) =>
        m(r("faithful.noAdapt"), "attPrior") - m(r("faithful.noAdapt"), "stepI_Latt_tail"),
      minGap: 1,
    }]),
  },
  {
    id: "C1-F",
    text: "Attr-only < ID-only < TJ-AIDL under the faithful configuration, R1",
    source: "Table 3",
    parts: both((
      r,
    ) => [gtP(r("idOnly"), r("attrOnly"), "R1"), gtP(r("faithful.full"), r("idOnly"), "R1")]),
  },
  {
    id: "C5-F",
    text: "w adaptation ≥ w/o adaptation under the faithful configuration, R1",
    source: "Table 4",
    parts: both((r) => [gtP(r("faithful.full"), r("faithful.noAdapt"), "R1")]),
  },
  {
    id: "C13",
    text: "Sanity: with λ2 = 0 the attribute branch is Attr-only (same R1)",
    source: "README.md, 'Rows'",
    rule: { test: "mean" },
    parts: both((r) => [same(r("lambda0.noAdapt"), r("attrOnly"), "R1", "R1", 0.01)]),
  },
];

/** Every metric a cell can report, table metrics first. */
export const METRICS: string[] = [
  ...TABLE_METRICS,
  "val_R1",
  "val_mAP",
  "ratio",
  "idBranch_R1",
  "idBranch_mAP",
  "stepI_R1",
  "stepI_mAP",
  "D_src_stepI",
  "D_tgt_stepI",
  "D_src_stepII",
  "D_tgt_stepII",
  "stepI_Latt_tail",
  "stepI_attAcc_tail",
  "stepI_Ltransfer_tail",
  "stepI_Lrec_tail",
  "attPrior",
];

/** The spec `deno task reproduce --paper tjaidl` runs. */
export const spec: PaperSpec<TjaidlConfig> = {
  paper: "tjaidl",
  title:
    "Transferable Joint Attribute-Identity Deep Learning for Unsupervised Person Re-Identification",
  version: "1",
  base: { cpu: CPU_BASE, paper: PAPER_BASE },
  quick: QUICK_DELTA,
  rows: ROWS,
  claims: CLAIMS,
  // README.md, 'Claims': a gap holds when the paired mean exceeds the margin by one standard
  // deviation of the per-seed differences; a reversal counts as ✗ only beyond that band.
  claimRule: { test: "sd", k: 1, reversal: "beyondNoise" },
  seeds: 5,
  metrics: METRICS,
  withWorldSeed,
  async runCell(config, seed, context) {
    const data = await loadTjaidlData(config.data, context.log);
    context.note("data", {
      sourceTrain: data.sourceTrain.indices.length,
      sourceIds: data.sourceTrain.numClasses,
      attributes: data.attributeNames.length,
      targetTrain: data.targetTrain.indices.length,
      valQuery: data.valQuery.indices.length,
      query: data.query.indices.length,
      gallery: data.gallery.indices.length,
    });
    const row = ROWS.find((r) => r.id === context.row);
    const outcome = await runTjaidlCell(config, data, context.rng, seed, {
      dir: context.dir,
      lookIn: (row?.needs ?? []).flatMap((n) => {
        const need = ROWS.find((r) => r.id === n);
        // Also where the needed row itself looks (e.g. full → noAdapt → idOnly).
        return [context.dirOf(n), ...(need?.needs ?? []).map((x) => context.dirOf(x))];
      }),
      history: context.history,
      log: context.log,
      note: (k, v) => context.note(k, v as never),
    });
    return outcome.metrics;
  },
};
