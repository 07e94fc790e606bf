import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cellEstimates,
  estimateLine,
  formatDuration,
  notebookSeconds,
  wallSeconds,
} from "./estimate.ts";
import { resultPath } from "./store.ts";

Deno.test("reproduce's estimate: stored timings per row, the paper's median otherwise, workers, notebooks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-estimate-" });
  try {
    const key = (row: string, seed: number) => ({
      paper: "toy",
      scale: "cpu" as const,
      row,
      seed,
      quick: false,
    });
    const write = async (row: string, seed: number, seconds: number) => {
      const path = resultPath(dir, key(row, seed));
      await Deno.mkdir(join(path, ".."), { recursive: true });
      await Deno.writeTextFile(path, JSON.stringify({ timings: { seconds } }));
    };
    await write("a", 0, 100);
    await write("a", 1, 120);
    await write("b", 0, 60);
    await Deno.writeTextFile(resultPath(dir, key("b", 1)), "{ cut short");
    const pending = [key("a", 2), key("b", 1), key("c", 0)];
    // a: median of 100, 120; b: 60 (the broken file says nothing); c: the paper's median (100).
    assert.deepEqual(await cellEstimates(dir, pending), [110, 60, 100]);
    assert.equal(wallSeconds([110, 60, 100], 2), 160);
    assert.equal(wallSeconds([110, 60, 100], 1), 270);

    const nb = join(dir, "nb.ipynb");
    await Deno.writeTextFile(
      nb,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          { cell_type: "markdown", source: "x", metadata: {} },
          {
            cell_type: "code",
            source: "1",
            metadata: {
              execution: {
                "iopub.execute_input": "2026-01-01T00:00:00.000Z",
                "shell.execute_reply": "2026-01-01T00:01:30.000Z",
              },
            },
          },
        ],
      }),
    );
    assert.equal(await notebookSeconds(nb), 90);
    assert.ok(Number.isNaN(await notebookSeconds(join(dir, "missing.ipynb"))));
    const line = await estimateLine({
      results: dir,
      pending,
      reused: 4,
      workers: 2,
      notebooks: [nb, join(dir, "missing.ipynb")],
    });
    assert.equal(
      line,
      "[reproduce] plan: 3 cells to train, ≈ 3 min on 2 workers; 4 reused; 2 notebooks to " +
        "execute, ≈ 2 min (1 without a stored timing); total ≈ 4 min and the untimed part",
    );
    assert.equal(formatDuration(3900), "1 h 05 min");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
