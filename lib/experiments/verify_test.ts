import assert from "node:assert/strict";
import { parseReproduceArgs, reproduce } from "./reproduce.ts";
import { compareMetrics, verifyStored } from "./verify.ts";
import { resultPath } from "./store.ts";

const toyEntry = {
  name: "toy",
  title: "A toy paper",
  module: new URL("./testdata/toy_spec.ts", import.meta.url).href,
};

Deno.test("compareMetrics: timings left out, NaN equals NaN, tolerance is absolute", () => {
  assert.deepEqual(
    compareMetrics({ r1: 10, seconds_per_step: 1 }, { r1: 10, seconds_per_step: 2 }),
    [],
  );
  assert.deepEqual(compareMetrics({ ms_per_iter: 700, step_ms: 1 }, { ms_per_iter: 140 }), []);
  assert.deepEqual(compareMetrics({ r1: NaN }, { r1: NaN }), []);
  assert.deepEqual(compareMetrics({ r1: 10 }, { r1: 10.004 }, 0.01), []);
  assert.deepEqual(compareMetrics({ r1: 10 }, { r1: 10.004 }), [
    { metric: "r1", stored: 10, retrained: 10.004 },
  ]);
  assert.deepEqual(compareMetrics({ r1: 10 }, { mAP: 3 }), [
    { metric: "mAP", stored: null, retrained: 3 },
    { metric: "r1", stored: 10, retrained: null },
  ]);
});

Deno.test("verify: retrained cells equal the stored ones; an edited stored metric is found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "verify_" });
  try {
    const common = { papers: ["toy"], registry: [toyEntry], seeds: 1, quick: true, backend: "cpu" };
    await reproduce({
      ...common,
      results: `${dir}/results`,
      work: `${dir}/work`,
      skipNotebooks: true,
      log: () => {},
    });
    const lines: string[] = [];
    const clean = await verifyStored({
      ...common,
      results: `${dir}/results`,
      scratch: `${dir}/scratch1`,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(clean.checks.map((c) => [c.key.row, c.status]), [
      ["narrow", "identical"],
      ["wide", "identical"],
      ["finetune", "identical"],
    ]);
    assert.equal(clean.ok, true);
    // The failing row never stored a result, so nothing of it can be checked.
    assert.deepEqual(clean.notStored.map((k) => k.row), ["fails", "after-fails"]);
    assert.match(lines.join("\n"), /toy: 3 identical, 0 differ, 0 failed to retrain/);

    // A stored result that its code no longer produces, as a stale cell would be.
    const key = { paper: "toy", scale: "cpu" as const, row: "wide", seed: 0, quick: true };
    const path = resultPath(`${dir}/results`, key);
    const stored = JSON.parse(await Deno.readTextFile(path));
    stored.metrics.acc += 1;
    const edited = JSON.stringify(stored);
    await Deno.writeTextFile(path, edited);
    lines.length = 0;
    const stale = await verifyStored({
      ...common,
      results: `${dir}/results`,
      scratch: `${dir}/scratch2`,
      log: (l) => lines.push(l),
    });
    assert.equal(stale.ok, false);
    const wide = stale.checks.find((c) => c.key.row === "wide")!;
    assert.equal(wide.status, "differs");
    assert.deepEqual(wide.diffs.map((d) => d.metric), ["acc"]);
    assert.equal(wide.diffs[0].stored! - wide.diffs[0].retrained!, 1);
    assert.match(lines.join("\n"), /1 differ/);
    assert.match(lines.join("\n"), /toy\/cpu-quick\/wide\/seed0: acc/);
    assert.equal(await Deno.readTextFile(path), edited, "verify never writes into results");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--verify on the command line: --tolerance needs it, a bad tolerance and --emit are refused", () => {
  assert.equal(parseReproduceArgs(["--verify"]).verify, true);
  assert.equal(parseReproduceArgs(["--verify", "--tolerance", "0.01"]).tolerance, 0.01);
  assert.equal(parseReproduceArgs([]).verify, false);
  assert.throws(() => parseReproduceArgs(["--tolerance", "1"]), /--tolerance goes with --verify/);
  for (const bad of ["-1", "x"]) {
    assert.throws(
      () => parseReproduceArgs(["--verify", `--tolerance=${bad}`]),
      new RegExp(`--tolerance must be a number ≥ 0, got "${bad}"`),
    );
  }
  assert.throws(
    () => parseReproduceArgs(["--verify", "--emit", "slurm"]),
    /does not go with --emit/,
  );
});
