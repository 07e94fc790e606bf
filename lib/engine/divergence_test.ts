/**
 * Issue 12, item 2: a training run that diverges (learning rate 1e6) stops at the step it
 * diverged and the grid cell is recorded as failed, with a diagnostic naming the loss, the
 * step and the last finite values; no result file is written.
 */
import assert from "node:assert/strict";
import { runCellAndStore } from "../experiments/cell.ts";
import type { PaperSpec } from "../experiments/spec.ts";
import { failurePath, readResult, resultPath } from "../experiments/store.ts";
import { spec as baseline } from "../papers/baseline/spec.ts";
import { initBackend } from "../runtime/backend.ts";

await initBackend({ announce: false });

Deno.test("learning rate 1e6: the baseline cell fails, naming the loss, step and last finite values", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-diverge-" });
  try {
    const diverging = {
      ...baseline,
      quick: {
        ...baseline.quick,
        train: {
          ...baseline.quick!.train,
          stepsPerEpoch: 4,
          schedule: { kind: "constant", lr: 1e6 },
        },
      },
    } as unknown as PaperSpec;
    const key = { paper: "baseline", scale: "cpu" as const, row: "id", seed: 0, quick: true };
    const roots = { results: `${dir}/results`, work: `${dir}/work` };
    await assert.rejects(
      runCellAndStore(diverging, key, roots, { log: () => {} }),
      /baseline\/cpu-quick\/id\/seed0 failed: training diverged: loss "(loss|id)" is .* at step [1-3]/,
    );
    assert.equal(await readResult(resultPath(roots.results, key)), null);
    const report = JSON.parse(await Deno.readTextFile(failurePath(roots.results, key)));
    assert.match(report.diagnostic.loss, /^(loss|id)$/);
    assert.ok(report.diagnostic.step >= 1);
    assert.equal(report.diagnostic.lastFinite.step, report.diagnostic.step - 1);
    assert.ok(Number.isFinite(report.diagnostic.lastFinite.losses.loss));
    assert.match(report.error, /last finite values at step \d+: loss=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
