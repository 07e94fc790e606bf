import assert from "node:assert/strict";
import { join } from "node:path";
import { spec } from "./testdata/toy_spec.ts";
import { gridView } from "./results_view.ts";
import { writeResult } from "./store.ts";
import type { CellResult } from "./store.ts";

function cell(row: string, seed: number, acc: number): CellResult {
  return {
    schema: 1,
    paper: "toy",
    row,
    scale: "cpu",
    quick: false,
    seed,
    config: {},
    configHash: "h",
    versions: { deno: "", v8: "", typescript: "", tfjs: "" },
    backend: { name: "cpu", simd: false, threads: false },
    metrics: { acc, loss: 1 },
    extras: {},
    history: { series: {} },
    timings: { startedAt: "", finishedAt: "", seconds: 1 },
    memory: {
      peakRssBytes: 0,
      peakHeapUsedBytes: 0,
      peakTfBytes: 0,
      peakTfTensors: 0,
      finalTfTensors: 0,
    },
    host: { os: "", arch: "", cpus: null },
  };
}

Deno.test("gridView: tables of stored results, claims judged over seeds; empty when nothing is stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-view-" });
  try {
    const empty = await gridView(spec, { results: join(dir, "none") });
    assert.equal(empty.cells, 0);
    assert.equal(empty.claims[0].verdict, "—");
    for (const [seed, narrow, wide] of [[0, 60, 70], [1, 62, 75], [2, 58, 71]]) {
      await writeResult(dir, cell("narrow", seed, narrow));
      await writeResult(dir, cell("wide", seed, wide));
    }
    const view = await gridView(spec, { results: dir });
    assert.equal(view.cells, 6);
    assert.equal(view.claims[0].verdict, "✓");
    const md = view.table["text/markdown"] as string;
    assert.match(md, /\| Narrow \| 60\.0 \| 60\.0 ± 2\.0 \|/);
    assert.match(md, /\| Wide \| 80\.0 \| 72\.0 ± 2\.6 \|/);
    assert.match(
      view.claimsTable["text/markdown"] as string,
      /Wide beats narrow \| ✓ \| wide − narrow, acc: 12\.00/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
