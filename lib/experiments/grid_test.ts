import assert from "node:assert/strict";
import { runGrid } from "./grid.ts";
import { readResult, resultPath } from "./store.ts";

const TOY = new URL("./testdata/toy_spec.ts", import.meta.url).href;

Deno.test("the grid runs cells in two worker processes, reports failures, then resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "grid_" });
  const roots = { results: `${dir}/results`, work: `${dir}/work` };
  try {
    const lines: string[] = [];
    const options = {
      specModule: TOY,
      scale: "cpu" as const,
      seeds: [0, 1],
      quick: true,
      workers: 2,
      roots,
      backend: "cpu",
      log: (line: string) => lines.push(line),
    };
    const first = await runGrid(options);
    const status = Object.fromEntries(
      first.cells.map((c) => [`${c.key.row}/${c.key.seed}`, c.status]),
    );
    assert.deepEqual(status, {
      "narrow/0": "done",
      "narrow/1": "done",
      "wide/0": "done",
      "wide/1": "done",
      "finetune/0": "done", // ran after wide/0 and read its artifacts (the toy checks the seed)
      "finetune/1": "done",
      "fails/0": "failed",
      "fails/1": "failed",
      "after-fails/0": "skipped",
      "after-fails/1": "skipped",
    }, lines.join("\n"));
    assert.equal(first.failed, 2);
    assert.match(first.cells.find((c) => c.key.row === "fails")!.error!, /fails on purpose/);
    assert.match(
      first.cells.find((c) => c.key.row === "after-fails")!.error!,
      /needs toy\/cpu-quick\/fails\/seed0, which failed/,
    );

    // Two worker processes ran at once: a second cell started before the first ended.
    const events = lines.filter((l) => /^\[grid\] (start|done|failed) /.test(l));
    const firstEnd = events.findIndex((l) => !l.startsWith("[grid] start"));
    assert.ok(firstEnd >= 2, `expected two starts before the first end:\n${events.join("\n")}`);
    let running = 0;
    let most = 0;
    for (const l of events) {
      running += l.startsWith("[grid] start") ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(most, 2, "never more than two workers");
    for (const c of first.cells.filter((c) => c.status === "done")) {
      assert.equal((await readResult(resultPath(roots.results, c.key)))!.backend.name, "cpu");
    }

    // Seeds differ, so their numbers should too (the data are drawn from the seed).
    const w0 = await readResult(resultPath(roots.results, first.cells[2].key));
    const w1 = await readResult(resultPath(roots.results, first.cells[3].key));
    assert.notDeepEqual(w0!.metrics, w1!.metrics);

    // A second run reuses every finished cell without starting workers for them.
    lines.length = 0;
    const second = await runGrid({ ...options, rows: ["wide", "narrow"] });
    assert.deepEqual(second.cells.map((c) => c.status), ["reused", "reused", "reused", "reused"]);
    assert.ok(!lines.some((l) => l.includes("[grid] start")), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown rows fail early, naming the known ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "grid_" });
  try {
    await assert.rejects(
      runGrid({
        specModule: TOY,
        scale: "cpu",
        seeds: [0],
        roots: { results: dir, work: dir },
        rows: ["nope"],
        log: () => {},
      }),
      /no row "nope"; rows: narrow, wide, finetune, fails, after-fails/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
