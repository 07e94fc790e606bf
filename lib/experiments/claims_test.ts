import assert from "node:assert/strict";
import {
  chain,
  evaluateClaim,
  evaluateClaims,
  formatStats,
  gt,
  gtMax,
  type ResultTable,
  stats,
  summarizeRows,
  verdictOf,
} from "./claims.ts";

/** Hand-made results: row → per-seed metric values. */
function table(rows: Record<string, Record<string, number[]>>): ResultTable {
  const out: ResultTable = new Map();
  for (const [row, metrics] of Object.entries(rows)) {
    const bySeed = new Map<number, { metrics: Record<string, number> }>();
    for (const [name, values] of Object.entries(metrics)) {
      values.forEach((v, seed) => {
        if (Number.isNaN(v)) return; // NaN marks a missing cell
        const cell = bySeed.get(seed) ?? { metrics: {} };
        cell.metrics[name] = v;
        bySeed.set(seed, cell);
      });
    }
    out.set(row, bySeed);
  }
  return out;
}

Deno.test("stats and the verdict rules", () => {
  const s = stats([1, 2, 3]);
  assert.equal(s.mean, 2);
  assert.equal(s.std, 1);
  assert.ok(Math.abs(s.se - 1 / Math.sqrt(3)) < 1e-12);
  assert.equal(verdictOf(s, 0, { test: "mean" }), "✓");
  assert.equal(verdictOf(s, 0, { test: "sd" }), "✓"); // 2 > 1·1
  assert.equal(verdictOf(s, 0, { test: "sd", k: 3 }), "~"); // 2 < 3·1
  assert.equal(verdictOf(s, 2.5, { test: "mean" }), "✗");
  assert.equal(verdictOf(stats([4]), 0, { test: "se" }), "~", "one seed has no spread");
  assert.equal(verdictOf(stats([]), 0, { test: "se" }), "—");
  // A minimum gap: a tight but small excess is inconclusive, not ✓.
  assert.equal(verdictOf(stats([1, 1.2, 1.4]), 0, { test: "sd" }), "✓");
  assert.equal(verdictOf(stats([1, 1.2, 1.4]), 0, { test: "sd" }, 2), "~");
  assert.equal(verdictOf(stats([3, 3.2, 3.4]), 0, { test: "sd" }, 2), "✓");
  assert.equal(verdictOf(stats([1, 1.2, 1.4]), 0, { test: "mean" }, 2), "~");
  // Reversals: any reversal is ✗ by default; under "beyondNoise" only one past the band.
  const small = stats([-1, 0.5, -1]); // mean −0.5, sd ≈ 0.87
  assert.equal(verdictOf(small, 0, { test: "sd" }), "✗");
  assert.equal(verdictOf(small, 0, { test: "sd", reversal: "beyondNoise" }), "~");
  assert.equal(verdictOf(stats([-3, -2.5, -3.5]), 0, { test: "sd", reversal: "beyondNoise" }), "✗");
  assert.equal(verdictOf(stats([-1]), 0, { test: "sd", reversal: "beyondNoise" }), "✗");
  assert.equal(formatStats(s), "2.0 ± 1.0");
  assert.equal(formatStats(stats([])), "—");
});

Deno.test("paired differences decide, not the unpaired spread", () => {
  // Seeds move both rows together (a hard and an easy seed); the pairing removes it.
  const results = table({ a: { R1: [30, 50, 70] }, b: { R1: [29, 49, 68] } });
  const c = evaluateClaim({ id: "C", text: "a > b", parts: [gt("a", "b", "R1")] }, results);
  assert.deepEqual(c.parts[0].values.map((v) => v.value), [1, 1, 2]);
  assert.equal(c.verdict, "✓"); // mean 1.33, se 0.33
  // The unpaired std of each row (20) would drown the gap; the paired std is ~0.58.
  assert.ok(c.parts[0].stats.std < 1);

  const flipped = evaluateClaim({ id: "C", text: "b > a", parts: [gt("b", "a", "R1")] }, results);
  assert.equal(flipped.verdict, "✗");
  const margin = evaluateClaim({
    id: "C",
    text: "a ≫ b",
    parts: [gt("a", "b", "R1", { margin: 5 })],
  }, results);
  assert.equal(margin.verdict, "✗");
  const noisy = table({ a: { R1: [10, 10, 10] }, b: { R1: [12, 9, 7] } }); // diffs −2, 1, 3
  assert.equal(
    evaluateClaim({ id: "N", text: "", parts: [gt("a", "b", "R1")] }, noisy).verdict,
    "~",
  );
});

Deno.test("chains, maxima, missing cells and whole specs", () => {
  const results = table({
    attr: { R1: [20, 22, 21], mAP: [5, 6, 5] },
    id: { R1: [30, 28, 33], mAP: [9, 9, 8] },
    full: { R1: [40, NaN, 45], mAP: [12, 11, 13] },
    joint: { R1: [35, 36, 34] },
  });
  const c1 = evaluateClaim({
    id: "C1",
    text: "attr < id < full",
    parts: chain(["attr", "id", "full"], "R1"),
  }, results);
  assert.equal(c1.parts.length, 2);
  assert.equal(c1.parts[1].stats.n, 2, "seed 1 lacks full's R1");
  assert.deepEqual(c1.parts[1].missing, [{ seed: 1, cell: "full/seed1.R1" }]);
  assert.equal(c1.verdict, "✓");
  const c3 = evaluateClaim({
    id: "C3",
    text: "full > max(id, joint)",
    parts: [gtMax("full", ["id", "joint"], "R1")],
  }, results);
  assert.deepEqual(c3.parts[0].values.map((v) => v.value), [5, 11]);
  const none = evaluateClaim({ id: "C4", text: "", parts: [gt("joint", "id", "mAP")] }, results);
  assert.equal(none.verdict, "—");
  // One contradicted part makes the claim ✗ even if another holds.
  const mixed = evaluateClaim({
    id: "C5",
    text: "",
    parts: [gt("full", "id", "mAP"), gt("attr", "id", "R1")],
  }, results);
  assert.deepEqual(mixed.parts.map((p) => p.verdict), ["✓", "✗"]);
  assert.equal(mixed.verdict, "✗");

  const spec = {
    rows: [
      { id: "attr", label: "Attribute only", delta: {}, paper: { R1: 24.3 } },
      { id: "full", label: "Full", delta: {}, paper: { R1: 44.3 } },
      { id: "absent", label: "Not run", delta: {} },
    ],
    metrics: ["R1"],
    claims: [{ id: "C", text: "full > attr", parts: [gt("full", "attr", "R1")] }],
    claimRule: { test: "mean" as const },
  };
  const [verdict] = evaluateClaims(spec, results);
  assert.equal(verdict.rule.test, "mean");
  assert.equal(verdict.verdict, "✓");
  const rows = summarizeRows(spec, results);
  assert.deepEqual(rows.map((r) => r.row), ["attr", "full", "absent"]);
  assert.equal(rows[1].ours.R1.mean, 42.5);
  assert.equal(rows[1].paper.R1, 44.3);
  assert.deepEqual(rows[1].seeds, [0, 1, 2]);
  assert.equal(rows[2].ours.R1.n, 0);
});
