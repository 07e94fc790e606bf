import assert from "node:assert/strict";
import { join } from "node:path";
import { spec } from "./testdata/toy_spec.ts";
import { gridView } from "./results_view.ts";
import { resolveConfig } from "./config.ts";
import { failurePath, writeResult } from "./store.ts";
import type { CellResult } from "./store.ts";

const hashOf = async (row: string) => (await resolveConfig(spec, "cpu", row)).hash;

function cell(row: string, seed: number, acc: number, configHash: string): CellResult {
  return {
    schema: 1,
    paper: "toy",
    row,
    scale: "cpu",
    quick: false,
    seed,
    config: {},
    configHash,
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
      await writeResult(dir, cell("narrow", seed, narrow, await hashOf("narrow")));
      await writeResult(dir, cell("wide", seed, wide, await hashOf("wide")));
    }
    const view = await gridView(spec, { results: dir });
    assert.equal(view.cells, 6);
    assert.equal(view.claims[0].verdict, "✓");
    const md = view.table["text/markdown"] as string;
    // The headline table: ours (mean ± std) beside the paper's value.
    assert.match(md, /\| Narrow \| 60\.0 ± 2\.0 \| 60\.0 \|/);
    assert.match(md, /\| Wide \| 72\.0 ± 2\.6 \| 80\.0 \|/);
    assert.match(
      view.claimsTable["text/markdown"] as string,
      /Wide beats narrow \| ✓ \| ✓ wide − narrow, acc: 12\.00/,
    );
    assert.match(view.claimsTable["text/markdown"] as string, /1 ✓ hold, 0 ✗ contradicted/);
    assert.match(view.fullTable["text/html"] as string, /^<details>/);
    assert.match(view.csv, /^row,label,acc_mean,acc_std,acc_paper,/);
    assert.match(view.csv, /\nwide,Wide,72,2\.6\d*,80,/);
    assert.ok(view.forest, "a forest plot of the claim's paired differences");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gridView counts only the current grid: stale files are named, failed cells shown as failed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-view-" });
  try {
    for (const seed of [0, 1, 2]) {
      await writeResult(dir, cell("narrow", seed, 60 + seed, await hashOf("narrow")));
      await writeResult(dir, cell("wide", seed, 70 + seed, await hashOf("wide")));
    }
    // A result of an older config, a seed nobody asked for, a row the spec no longer has,
    // and a file cut short: none may be counted, and one bad file must not abort the view.
    await writeResult(dir, { ...cell("wide", 2, 99, "an-old-hash") });
    await writeResult(dir, cell("narrow", 7, 0, await hashOf("narrow")));
    await writeResult(dir, cell("dropped-row", 0, 50, "x"));
    const narrow1 = `${dir}/toy/cpu/narrow/seed1.json`;
    await Deno.writeTextFile(narrow1, '{"schema": 1, "metr');
    // narrow/seed0's last run failed: its report carries the current hash.
    const key = { paper: "toy", scale: "cpu" as const, row: "narrow", seed: 0, quick: false };
    await Deno.remove(`${dir}/toy/cpu/narrow/seed0.json`);
    await Deno.writeTextFile(
      failurePath(dir, key),
      JSON.stringify({ ...key, configHash: await hashOf("narrow"), error: "corrupt image" }),
    );
    const view = await gridView(spec, { results: dir });
    assert.equal(view.cells, 3, "only wide/seed0, wide/seed1 and narrow/seed2 are current");
    assert.deepEqual([...view.results.get("wide")!.keys()].sort(), [0, 1]);
    assert.deepEqual([...view.results.get("narrow")!.keys()], [2]);
    assert.deepEqual(view.failed.map((f) => `${f.row}/${f.seed}: ${f.error}`), [
      "narrow/0: corrupt image",
    ]);
    const reasons = view.stale.map((s) => `${s.path.slice(dir.length)}: ${s.reason}`).sort();
    assert.equal(reasons.length, 4, reasons.join("\n"));
    assert.match(
      reasons[0],
      /dropped-row\/seed0\.json: result of row "dropped-row", which is not in/,
    );
    assert.match(reasons[1], /narrow\/seed1\.json: unreadable/);
    assert.match(
      reasons[2],
      /narrow\/seed7\.json: result of seed 7, not among the seeds asked for/,
    );
    assert.match(reasons[3], /wide\/seed2\.json: config hash an-old-hash ≠ current/);
    const md = view.table["text/markdown"] as string;
    assert.match(md, /\| Narrow \(failed: seed 0\) \| 62\.0 \| 60\.0 \|/);
    assert.match(md, /1 failed: narrow\/seed0; 4 stale file\(s\) not counted/);
    // One seed per row left: the claim has no spread to judge by, so it cannot hold.
    assert.notEqual(view.claims[0].verdict, "✓");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
