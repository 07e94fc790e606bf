import assert from "node:assert/strict";
import { initBackend } from "../runtime/backend.ts";
import { runCellAndStore } from "./cell.ts";
import { failurePath, loadResults, readResult, resultPath } from "./store.ts";
import type { CellKey } from "./store.ts";
import { spec as toy, type ToyConfig } from "./testdata/toy_spec.ts";
import type { PaperSpec } from "./spec.ts";

await initBackend({ backend: "cpu", announce: false });

const key = (row: string, seed = 0): CellKey => ({
  paper: "toy",
  scale: "cpu",
  row,
  seed,
  quick: true,
});

async function withRoots(fn: (roots: { results: string; work: string }) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "store_" });
  try {
    await fn({ results: `${dir}/results`, work: `${dir}/work` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a finished cell is stored, reused, rerun on a new config or --force", async () => {
  await withRoots(async (roots) => {
    const log = () => {};
    const first = await runCellAndStore(toy, key("wide"), roots, { log });
    assert.equal(first.status, "done");
    assert.equal(first.path, resultPath(roots.results, key("wide")));
    assert.match(first.path, /toy\/cpu-quick\/wide\/seed0\.json$/);
    const stored = await readResult(first.path);
    assert.ok(stored);
    assert.equal(stored.configHash, first.result.configHash);
    assert.equal(stored.config.model && (stored.config as unknown as ToyConfig).model.hidden, 16);
    assert.equal(stored.history.series.loss.values.length, 5);
    assert.deepEqual(stored.extras, { steps: 5 });
    assert.ok(stored.memory.peakRssBytes > 0 && stored.memory.peakTfTensors > 0);
    assert.equal(stored.backend.name, "cpu");
    assert.equal(stored.versions.deno, Deno.version.deno);
    assert.ok(stored.metrics.acc >= 0 && stored.metrics.acc <= 100);

    const again = await runCellAndStore(toy, key("wide"), roots, { log });
    assert.equal(again.status, "reused");
    assert.equal(again.result.timings.startedAt, first.result.timings.startedAt);

    const forced = await runCellAndStore(toy, key("wide"), roots, { force: true, log });
    assert.equal(forced.status, "done");
    assert.deepEqual(forced.result.metrics, first.result.metrics, "same seed, same numbers");

    const changed: PaperSpec<ToyConfig> = { ...toy, quick: { train: { steps: 6 } } };
    const rerun = await runCellAndStore(changed as unknown as PaperSpec, key("wide"), roots, {
      log,
    });
    assert.equal(rerun.status, "done");
    assert.notEqual(rerun.result.configHash, first.result.configHash);
    assert.equal(rerun.result.history.series.loss.values.length, 6);
  });
});

Deno.test("half-written files are ignored; failures leave a report and no result", async () => {
  await withRoots(async (roots) => {
    const log = () => {};
    // What a run killed mid-write leaves: only a temporary file beside the result path.
    const path = resultPath(roots.results, key("narrow"));
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(`${path}.tmp-123-abcd`, '{"schema": 1, "metr');
    assert.equal((await loadResults(roots.results, "toy", "cpu", true)).size, 0);
    const outcome = await runCellAndStore(toy, key("narrow"), roots, { log });
    assert.equal(outcome.status, "done");
    // A result that is itself truncated (e.g. edited by hand) is redone, not trusted.
    await Deno.writeTextFile(path, '{"schema": 1, "metr');
    assert.equal((await runCellAndStore(toy, key("narrow"), roots, { log })).status, "done");

    await assert.rejects(
      runCellAndStore(toy, key("fails"), roots, { log }),
      /toy\/cpu-quick\/fails\/seed0 failed: this row fails on purpose/,
    );
    assert.equal(await readResult(resultPath(roots.results, key("fails"))), null);
    const report = JSON.parse(await Deno.readTextFile(failurePath(roots.results, key("fails"))));
    assert.equal(report.error, "this row fails on purpose");
    await assert.rejects(
      runCellAndStore(toy, { ...key("fails"), scale: "paper" }, roots, { log }),
      /does not run at scale paper/,
    );
    const loaded = await loadResults(roots.results, "toy", "cpu", true);
    assert.deepEqual([...loaded.keys()], ["narrow"]);
  });
});
