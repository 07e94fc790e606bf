/**
 * Fault injection for the experiment engine (issue 12): diverged cells never become
 * results, failed cells show as failed, stale files are never counted, bad command lines
 * stop before any work, and a worker killed with SIGKILL mid-grid is redone on resume with
 * the same numbers as an uninterrupted run.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { initBackend } from "../runtime/backend.ts";
import { runCellAndStore } from "./cell.ts";
import { runGrid } from "./grid.ts";
import { type PaperSummary, parseReproduceArgs, reproduce } from "./reproduce.ts";
import { spec as faults } from "./testdata/fault_spec.ts";
import type { PaperSpec } from "./spec.ts";
import { type CellKey, failurePath, readResult, resultPath, workDir } from "./store.ts";

await initBackend({ backend: "cpu", announce: false });

const SPEC = faults as unknown as PaperSpec;
const MODULE = new URL("./testdata/fault_spec.ts", import.meta.url).href;
const ENTRY = { name: "faults", title: "Fault injection", module: MODULE };
const key = (row: string, seed = 0): CellKey => ({
  paper: "faults",
  scale: "cpu",
  row,
  seed,
  quick: true,
});

async function withRoots(fn: (roots: { results: string; work: string }) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "reid-faults-" });
  try {
    await fn({ results: `${dir}/results`, work: `${dir}/work` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const failure = async (root: string, k: CellKey) =>
  JSON.parse(await Deno.readTextFile(failurePath(root, k)));

Deno.test("NaN metrics and non-finite or exploding losses fail the cell; nothing is stored", async () => {
  await withRoots(async (roots) => {
    const log = () => {};
    await assert.rejects(
      runCellAndStore(SPEC, key("nan"), roots, { log }),
      /faults\/cpu-quick\/nan\/seed0 failed: metric "acc" is NaN, expected a finite number/,
    );
    await assert.rejects(
      runCellAndStore(SPEC, key("inf-loss"), roots, { log }),
      /loss "loss" is not finite at step 2; last finite value [\d.]+ at step 1/,
    );
    await assert.rejects(
      runCellAndStore(SPEC, key("diverge"), roots, { log }),
      /training diverged: loss "l_total" is [\d.e+]+ at step 2 \(more than 1e\+6 × its first/,
    );
    for (const row of ["nan", "inf-loss", "diverge"]) {
      assert.equal(await readResult(resultPath(roots.results, key(row))), null, row);
    }
    // A NaN stored by an older version (JSON null) is not reused: the cell is redone.
    const good = await runCellAndStore(SPEC, key("good"), roots, { log });
    const path = resultPath(roots.results, key("good"));
    await Deno.writeTextFile(
      path,
      JSON.stringify({ ...good.result, metrics: { acc: null } }),
    );
    const redone = await runCellAndStore(SPEC, key("good"), roots, { log });
    assert.equal(redone.status, "done");
    assert.deepEqual(redone.result.metrics, good.result.metrics);
    const report = await failure(roots.results, key("diverge"));
    assert.equal(report.diagnostic.loss, "l_total");
    assert.equal(report.diagnostic.step, 2);
    assert.equal(report.diagnostic.kind, "exploded");
    assert.equal(report.diagnostic.lastFinite.step, 1);
    assert.ok(Number.isFinite(report.diagnostic.lastFinite.losses.l_total));
  });
});

Deno.test("a failed rerun moves the previous result aside; the summary shows the cell as failed", async () => {
  await withRoots(async (roots) => {
    const base = {
      papers: ["faults"],
      registry: [ENTRY],
      quick: true,
      backend: "cpu",
      results: roots.results,
      work: roots.work,
      skipNotebooks: true,
      log: () => {},
    };
    // Only the two rows the claim compares: failing rows are tested above.
    const spec: PaperSpec = { ...SPEC, rows: SPEC.rows.slice(0, 2) };
    for (const seed of [0, 1]) {
      for (const row of ["good", "other"]) await runCellAndStore(spec, key(row, seed), roots, base);
    }
    // A corrupt input now makes good/seed1 fail on a forced rerun.
    await Deno.mkdir(workDir(roots.work, key("good", 1)), { recursive: true });
    await Deno.writeTextFile(`${workDir(roots.work, key("good", 1))}/fail`, "");
    await assert.rejects(runCellAndStore(spec, key("good", 1), roots, { force: true, ...base }));
    const path = resultPath(roots.results, key("good", 1));
    assert.equal(await readResult(path), null, "the old value must not stand in for the failure");
    assert.ok(await readResult(path.replace(/\.json$/, ".superseded.json")));

    // A stored result of an old config and one of a seed not asked for: not counted.
    const stale = JSON.parse(await Deno.readTextFile(resultPath(roots.results, key("other", 0))));
    await Deno.writeTextFile(
      resultPath(roots.results, key("other", 5)),
      JSON.stringify({ ...stale, seed: 5 }),
    );
    await Deno.writeTextFile(
      resultPath(roots.results, key("good", 0)).replace("seed0", "seed3"),
      JSON.stringify({ ...stale, seed: 3, configHash: "old" }),
    );
    const lines: string[] = [];
    const report = await reproduce({
      ...base,
      seeds: 2,
      // The grid reruns good/seed1, which fails again: the command must say so.
      log: (l) => lines.push(l),
    });
    assert.equal(report.ok, false);
    const summary: PaperSummary = JSON.parse(await Deno.readTextFile(report.summaries[0]));
    const good = summary.rows.find((r) => r.row === "good")!;
    assert.deepEqual(good.failedSeeds, [1]);
    assert.equal(good.ours.acc.n, 1, "only seed 0 counts");
    assert.deepEqual(summary.claims[0].parts[0].values.map((v) => v.seed), [0]);
    assert.equal(summary.stale.length, 2);
    const text = lines.join("\n");
    assert.match(text, /\| Good \(FAILED: seed 1\) \|/);
    assert.match(text, /2 stored file\(s\) not counted \(stale\)/);
    assert.match(text, /other\/seed5\.json: result of seed 5, not among the seeds asked for/);
    assert.match(text, /good\/seed3\.json: result of seed 3/);
    assert.match(text, /FAILED good\/seed1: .*failure injected by the test/);
  });
});

Deno.test("bad command lines stop before any work, with the usage and exit code 2", async () => {
  for (
    const [args, message] of [
      [["--workers", "abc"], /--workers must be a positive integer, got "abc"/],
      [["--workers", "0"], /--workers must be a positive integer, got "0"/],
      [["--seeds", "-1"], /--seeds/],
      [["--seeds", "2.5"], /--seeds must be a positive integer, got "2\.5"/],
      [["--scale", "gpu"], /--scale must be cpu or paper, got "gpu"/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["stray"], /Unexpected argument 'stray'/],
    ] as const
  ) {
    assert.throws(() => parseReproduceArgs([...args]), message, args.join(" "));
  }
  assert.equal(parseReproduceArgs(["--workers", "3", "--seeds", "2"]).workers, 3);
  // The command itself: usage on stderr, exit code 2, nothing trained.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(new URL("../cli/reproduce.ts", import.meta.url)),
      "--workers",
      "abc",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /--workers must be a positive integer[\s\S]*usage: deno task reproduce/);
  // The library checks too: NaN workers or bad seeds never reach the queue.
  await withRoots(async (roots) => {
    const grid = { specModule: MODULE, scale: "cpu" as const, roots, log: () => {} };
    await assert.rejects(runGrid({ ...grid, seeds: [0], workers: NaN }), /workers must be a/);
    await assert.rejects(runGrid({ ...grid, seeds: [0, 0] }), /seeds must be distinct/);
    await assert.rejects(runGrid({ ...grid, seeds: [] }), /no seeds given/);
    // A results folder that cannot be created (a file is in the way): found before training.
    await Deno.mkdir(roots.work, { recursive: true });
    await Deno.writeTextFile(`${roots.work}/file`, "");
    const lines: string[] = [];
    await assert.rejects(
      reproduce({
        papers: ["faults"],
        registry: [ENTRY],
        results: `${roots.work}/file/results`,
        work: roots.work,
        skipNotebooks: true,
        log: (l) => lines.push(l),
      }),
      /results folder .*file\/results is not writable/,
    );
    assert.ok(!lines.some((l) => l.includes("[grid]")), lines.join("\n"));
  });
});

Deno.test("a worker killed with SIGKILL mid-grid is reported failed; resume gives the same metrics", async () => {
  await withRoots(async (roots) => {
    const options = {
      specModule: MODULE,
      scale: "cpu" as const,
      seeds: [0],
      quick: true,
      workers: 2,
      rows: ["good", "slow"],
      roots,
      backend: "cpu",
      log: () => {},
      echo: false,
    };
    const slowDir = workDir(roots.work, key("slow"));
    await Deno.mkdir(slowDir, { recursive: true });
    await Deno.writeTextFile(`${slowDir}/wait`, "");
    const killer = (async () => {
      // The cell writes its pid once it runs; kill -9 it then.
      for (let i = 0; i < 600; i++) {
        const pid = await Deno.readTextFile(`${slowDir}/pid`).catch(() => null);
        if (pid) return Deno.kill(Number(pid), "SIGKILL");
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the slow cell never started");
    })();
    const first = await runGrid(options);
    await killer;
    const status = Object.fromEntries(first.cells.map((c) => [c.key.row, c.status]));
    assert.deepEqual(status, { good: "done", slow: "failed" });
    assert.match(first.cells[1].error!, /SIGKILL|code 137/);
    assert.equal(await readResult(resultPath(roots.results, key("slow"))), null);

    await Deno.remove(`${slowDir}/pid`);
    await Deno.writeTextFile(`${slowDir}/go`, "");
    const resumed = await runGrid(options);
    assert.deepEqual(resumed.cells.map((c) => c.status), ["reused", "done"]);
    const after = await readResult(resultPath(roots.results, key("slow")));
    // The same cell run in this process, uninterrupted, gives the same numbers.
    const clean = await runCellAndStore(SPEC, key("slow"), {
      results: `${roots.results}-clean`,
      work: roots.work,
    }, { log: () => {} });
    assert.deepEqual(after!.metrics, clean.result.metrics);
    assert.deepEqual(after!.history, clean.result.history);
  });
});

Deno.test("the grid's parent killed with SIGKILL: its worker finishes the cell, and resume reuses it unchanged", async () => {
  await withRoots(async (roots) => {
    const slowDir = workDir(roots.work, key("slow"));
    await Deno.mkdir(slowDir, { recursive: true });
    await Deno.writeTextFile(`${slowDir}/wait`, "");
    const parent = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        fileURLToPath(new URL("./testdata/grid_driver.ts", import.meta.url)),
        roots.results,
        roots.work,
        "slow",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let workerPid = 0;
    for (let i = 0; i < 600 && !workerPid; i++) {
      workerPid = Number(await Deno.readTextFile(`${slowDir}/pid`).catch(() => "0"));
      if (!workerPid) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(workerPid > 0, "the slow cell never started");
    parent.kill("SIGKILL");
    assert.equal((await parent.status).signal, "SIGKILL");
    // The orphaned worker still finishes its cell and stores it atomically.
    await Deno.writeTextFile(`${slowDir}/go`, "");
    const path = resultPath(roots.results, key("slow"));
    let stored = null;
    for (let i = 0; i < 600 && !stored; i++) {
      stored = await readResult(path).catch(() => null);
      if (!stored) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(stored, "the orphaned worker did not store its result");
    const resumed = await runGrid({
      specModule: MODULE,
      scale: "cpu",
      seeds: [0],
      quick: true,
      rows: ["slow"],
      roots,
      backend: "cpu",
      log: () => {},
    });
    assert.deepEqual(resumed.cells.map((c) => c.status), ["reused"]);
    const clean = await runCellAndStore(SPEC, key("slow"), {
      results: `${roots.results}-clean`,
      work: roots.work,
    }, { log: () => {} });
    assert.deepEqual(stored.metrics, clean.result.metrics);
  });
});
