import assert from "node:assert/strict";
import { selectPapers } from "./papers.ts";
import { type PaperSummary, reproduce } from "./reproduce.ts";

const toyEntry = {
  name: "toy",
  title: "A toy paper",
  module: new URL("./testdata/toy_spec.ts", import.meta.url).href,
};

Deno.test("unknown papers fail with the list of known ones", async () => {
  assert.throws(
    () => selectPapers(["sal"], []),
    /unknown paper "sal"; no papers are registered yet/,
  );
  assert.throws(
    () => selectPapers(["x", "y"], [toyEntry]),
    /unknown papers "x", "y"; known papers: toy/,
  );
  assert.deepEqual(selectPapers([], [toyEntry]), [toyEntry]);
  await assert.rejects(
    reproduce({ papers: ["nope"], registry: [toyEntry], log: () => {} }),
    /known papers: toy/,
  );
});

Deno.test("reproduce runs a paper's grid and writes its summary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reproduce_" });
  try {
    const lines: string[] = [];
    const report = await reproduce({
      papers: ["toy"],
      registry: [toyEntry],
      seeds: 1,
      quick: true,
      backend: "cpu",
      results: `${dir}/results`,
      work: `${dir}/work`,
      skipNotebooks: true,
      log: (l) => lines.push(l),
    });
    assert.equal(report.ok, false, "the toy's failing row makes the run fail");
    assert.deepEqual(report.summaries, [`${dir}/results/toy/cpu-quick/summary.json`]);
    const summary: PaperSummary = JSON.parse(await Deno.readTextFile(report.summaries[0]));
    assert.deepEqual(summary.rows.map((r) => r.row), [
      "narrow",
      "wide",
      "finetune",
      "fails",
      "after-fails",
    ]);
    assert.equal(summary.rows[1].paper.acc, 80);
    assert.equal(summary.rows[1].ours.acc.n, 1);
    assert.equal(summary.claims[0].id, "C1");
    assert.ok(["✓", "✗", "~"].includes(summary.claims[0].verdict));
    assert.deepEqual(
      summary.cells.map((c) => c.status),
      ["done", "done", "done", "failed", "skipped"],
    );
    const text = lines.join("\n");
    assert.match(text, /\| Wide \| 80 \| \d+\.\d \|/);
    assert.match(text, /summary +.*toy\/cpu-quick\/summary\.json/);
    assert.match(text, /FAILED fails\/seed0: .*fails on purpose/);
    // The plan comes first, before any cell trains: nothing stored yet, so no timing to go by.
    assert.match(
      lines[0],
      /^\[reproduce\] plan: 5 cells to train, ≈ \? on 2 workers \(5 without a stored timing\); 0 reused; 0 notebooks/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
