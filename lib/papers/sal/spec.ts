/**
 * SAL (Cao, Wang, Tao, ECCV 2020) as an experiment spec: base configs of both scales, the rows
 * of Tables 2–4 (plus the Embed@pretrain checkpoint, the paper-GAN-loss sensitivity run and
 * the Market-like rows), the paper's numbers, and the claims of README.md, 'Claims' as paired
 * checks over seeds. `deno task reproduce --paper sal` runs it.
 *
 * @module
 */
import { gt } from "../../experiments/claims.ts";
import type { ClaimPart, ClaimSpec, PaperSpec } from "../../experiments/spec.ts";
import {
  CPU_BASE,
  METRICS,
  PAPER_BASE,
  QUICK_DELTA,
  ROWS,
  type SalConfig,
  withWorldSeed,
} from "./config.ts";
import { describeData, loadSalData } from "./data.ts";
import { disposeRun, runSal } from "./run.ts";

const paper = (row: string, metric: string): number =>
  ROWS.find((r) => r.id === row)?.paper?.[metric] ?? NaN;

/** `a − b` on `metric` with the paper's difference beside it. */
function diff(a: string, b: string, metric: string, margin = 0): ClaimPart {
  return { ...gt(a, b, metric, { margin }), paper: paper(a, metric) - paper(b, metric) };
}

/** `row`'s metric within `half` points of `other`'s: value = half − |x − y|. */
function near(row: string, other: string, metric: string, half: number): ClaimPart {
  return {
    label: `${half} − |${row} − ${other}|, ${metric}`,
    value: (m) => half - Math.abs(m(row, metric) - m(other, metric)),
    paper: half - Math.abs(paper(row, metric) - paper(other, metric)),
  };
}

/** The claims of README.md, 'Claims' (the paper's Tables 2–4 and its cost remark). */
export const CLAIMS: ClaimSpec[] = [
  {
    id: "C1",
    text: "Table 2: Embed < Embed+adv < Embed+symb-adv ≤ SAL (SAL ≥ Embed + 2 mAP)",
    source: "Table 2",
    parts: [
      diff("sal", "embed", "mAP", 2),
      diff("embed-symb-adv", "embed-adv", "mAP"),
      diff("embed-symb-adv", "embed-adv", "R1"),
      diff("embed-adv", "embed", "mAP"),
      // Non-inferiority: the paper's gap is only +0.6 mAP.
      diff("sal", "embed-symb-adv", "mAP", -0.5),
    ],
  },
  {
    id: "C1m",
    text: "The unseen-sampling gain is larger where every test category is unseen (PETA-like) " +
      "than where some are seen (Market-like)",
    source: "§4.2",
    parts: [{
      label: "(sal − embed-symb-adv) − (m-sal − m-embed-symb-adv), mAP",
      value: (m) =>
        (m("sal", "mAP") - m("embed-symb-adv", "mAP")) -
        (m("m-sal", "mAP") - m("m-embed-symb-adv", "mAP")),
    }],
  },
  {
    id: "C2",
    text: "Table 3: removing L_aug or L_consis hurts by similar amounts, to about Embed+adv",
    source: "Table 3",
    parts: [
      diff("sal", "sal-no-aug", "mAP"),
      diff("sal", "sal-no-consis", "mAP"),
      {
        label: "½(sal − sal-no-aug) − |sal-no-aug − sal-no-consis|, mAP",
        value: (m) =>
          0.5 * (m("sal", "mAP") - m("sal-no-aug", "mAP")) -
          Math.abs(m("sal-no-aug", "mAP") - m("sal-no-consis", "mAP")),
        paper: 0.5 * (41.2 - 35.4) - Math.abs(35.4 - 35.2),
      },
      near("sal-no-aug", "embed-adv", "mAP", 3),
      near("sal-no-consis", "embed-adv", "mAP", 3),
    ],
  },
  {
    id: "C3",
    text: "Table 4: symbiotic training beats stage-wise training",
    source: "Table 4",
    parts: [diff("sal", "sal-stagewise", "mAP"), diff("sal", "sal-stagewise", "R1")],
  },
  {
    id: "C4",
    text: "Cost: SAL adds about 10% time and 5% parameters over Embed+adv (informational)",
    source: "§4.2",
    parts: [
      {
        label: "0.2 − (ms/iter sal ÷ embed-adv − 1)",
        value: (m) => 0.2 - (m("sal", "ms_per_iter") / m("embed-adv", "ms_per_iter") - 1),
        paper: 0.2 - (77 / 70 - 1),
      },
      {
        label: "0.1 − (params sal ÷ embed-adv − 1)",
        value: (m) => 0.1 - (m("sal", "params_M") / m("embed-adv", "params_M") - 1),
        paper: 0.1 - (26.3 / 25.0 - 1),
      },
    ],
  },
];

/** The spec `deno task reproduce --paper sal` runs. */
export const spec: PaperSpec<SalConfig> = {
  paper: "sal",
  title: "Symbiotic Adversarial Learning for Attribute-based Person Search",
  version: "1",
  base: { cpu: CPU_BASE, paper: PAPER_BASE },
  quick: QUICK_DELTA,
  rows: ROWS,
  claims: CLAIMS,
  // README.md, 'Claims': a part holds when its mean clears the margin by two standard errors
  // of the seed-paired values; a mean on the wrong side by more than that is ✗, else ~.
  claimRule: { test: "se", k: 2, reversal: "beyondNoise" },
  seeds: 5,
  metrics: [...METRICS],
  withWorldSeed,
  async runCell(config, seed, context) {
    const data = await loadSalData(config.data, context.log);
    context.note("data", describeData(data));
    const run = await runSal(config, data, context.rng, {
      history: context.history,
      log: context.log,
      seed,
      progress: "lines",
      pretrainedDir: config.run === "variant" ? context.dirOf(config.pretrainRow) : null,
      saveDir: config.run === "pretrain" ? context.dir : null,
    });
    try {
      context.note("pretrainedFromDisk", run.pretrainedFromDisk);
      return run.metrics;
    } finally {
      disposeRun(run);
    }
  },
};
