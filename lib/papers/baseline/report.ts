/**
 * The introduction notebook's report plumbing: the toy ranking and its hand-checked metrics,
 * the chance level of a CMC curve, the points of the feature map, and the baseline grid's
 * tables. Cells call one function each and stay a few lines.
 *
 * @see notebooks/00_introduction.ipynb §3 (metrics), §5 (evaluation), §6 (results over seeds)
 * @module
 */
import type { DenseMatrix, DistanceMatrix } from "../../eval/distance.ts";
import type { EvalResult } from "../../eval/evaluate.ts";
import type { EvalItem } from "../../eval/protocols.ts";
import { type GridView, gridView } from "../../experiments/results_view.ts";
import { type Displayable, displayable, type MimeBundle } from "../../runtime/display.ts";
import { type GalleryProtocol, isExcluded, itemsMatch } from "../../viz/gallery.ts";
import { chanceCmc } from "../../viz/plots.ts";
import { tableBundle } from "../../viz/tables.ts";
import { spec } from "./spec.ts";

/** The headline metrics of the baseline grid. */
export const HEADLINE = ["R1", "mAP", "mINP"];

/** The stored CPU grid of the baseline experiment. */
export function baselineView(options: { results?: string } = {}): Promise<GridView> {
  return gridView(spec, {
    scale: "cpu",
    headline: HEADLINE,
    metricLabels: { R1: "rank-1", R5: "rank-5", R10: "rank-10" },
    ...options,
  });
}

/**
 * Each query's ranking after the protocol's exclusions, as a table: `rank: g<index>
 * (distance) ✓/✗`, ignored items marked where they fall.
 */
export function rankingTable(
  dist: DistanceMatrix,
  query: EvalItem[],
  gallery: EvalItem[],
  protocol: GalleryProtocol,
): MimeBundle {
  const rows = query.map((q, qi) => {
    const d = (g: number) => dist.data[qi * dist.cols + g];
    const order = gallery.map((_, g) => g).sort((a, b) => d(a) - d(b) || a - b);
    let rank = 0;
    const cells = order.map((g) => {
      const text = `g${g} (${d(g).toFixed(2)})`;
      if (isExcluded(protocol, q, gallery[g])) return `${text} ignored`;
      rank++;
      return `${rank}: ${text} ${itemsMatch(q, gallery[g], protocol.matchBy) ? "✓" : "✗"}`;
    });
    return [`query ${qi + 1} (person ${q.pid}, cam ${q.camid})`, cells.join(" · ")];
  });
  return tableBundle({
    title: "Rankings after the protocol's exclusions",
    headers: ["query", "ranked gallery (✓ same person, ✗ another)"],
    rows,
  });
}

/**
 * Checks `evaluate`'s numbers against the hand computation and returns them as one text
 * output; throws when they disagree.
 */
export function checkAgainstHand(
  result: EvalResult,
  expected: { cmc: number[]; mAP: number; mINP: number },
): MimeBundle & Displayable {
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  if (
    !expected.cmc.every((v, k) => close(v, result.cmc[k])) || !close(result.mAP, expected.mAP) ||
    !close(result.mINP, expected.mINP)
  ) {
    throw new Error(`evaluate disagrees with the hand computation: ${JSON.stringify(result)}`);
  }
  const per = result.perQuery;
  const bundle: MimeBundle = {
    "text/plain": [
      `CMC ${result.cmc.map((v) => (100 * v).toFixed(0)).join(" ")} (ranks 1–${result.cmc.length})`,
      ...(per
        ? [
          `AP per query ${Array.from(per.ap, (v) => v.toFixed(4)).join(", ")}`,
          `INP per query ${Array.from(per.inp, (v) => v.toFixed(4)).join(", ")}`,
        ]
        : []),
      `mAP ${(100 * result.mAP).toFixed(1)} %, mINP ${
        (100 * result.mINP).toFixed(1)
      } %: as computed by hand`,
    ].join("\n"),
  };
  return displayable(bundle, () => bundle);
}

/**
 * The CMC a random ranking would reach on this query/gallery set under `protocol` (the
 * counts after each query's exclusions; {@link chanceCmc}).
 */
export function chanceLevel(
  query: EvalItem[],
  gallery: EvalItem[],
  protocol: GalleryProtocol,
  maxRank: number,
): number[] {
  const counts = query.map((q) => {
    let matches = 0;
    let candidates = 0;
    for (const g of gallery) {
      if (isExcluded(protocol, q, g)) continue;
      candidates++;
      if (itemsMatch(q, g, protocol.matchBy)) matches++;
    }
    return { matches, candidates };
  });
  return chanceCmc(counts, maxRank);
}

/**
 * The query and gallery features of the first `people` identities of the query set, stacked
 * (query rows first), with each point's person and set: the input of a 2-D map.
 */
export function featurePoints(
  queryFeatures: DenseMatrix,
  galleryFeatures: DenseMatrix,
  query: EvalItem[],
  gallery: EvalItem[],
  people: number,
): { points: DenseMatrix; identity: number[]; set: ("query" | "gallery")[] } {
  const shown = new Set([...new Set(query.map((it) => it.pid))].slice(0, people));
  const picks: { m: DenseMatrix; row: number; pid: number; set: "query" | "gallery" }[] = [];
  for (
    const [m, items, set] of [[queryFeatures, query, "query"], [
      galleryFeatures,
      gallery,
      "gallery",
    ]] as const
  ) {
    items.forEach((it, row) => {
      if (shown.has(it.pid)) picks.push({ m, row, pid: it.pid, set });
    });
  }
  const cols = queryFeatures.cols;
  const data = new Float32Array(picks.length * cols);
  picks.forEach(({ m, row }, i) =>
    data.set(m.data.subarray(row * cols, (row + 1) * cols), i * cols)
  );
  return {
    points: { data, rows: picks.length, cols },
    identity: picks.map((p) => p.pid),
    set: picks.map((p) => p.set),
  };
}
