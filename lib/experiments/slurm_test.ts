/**
 * `reproduce --emit slurm` and `deno task cell`: the scripts a cluster runs, a race of two cell
 * processes on one cell, and — where a Slurm can be brought up here (`.ci/slurm_up.sh`, run as
 * root with Debian's slurm-wlm and munge; `.ci/run` installs them) — a real job array plus its
 * finishing job, whose results must equal a local run of the same cells.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../runtime/backend.ts";
import { REPO_ROOT } from "../runtime/paths.ts";
import { runCellAndStore } from "./cell.ts";
import { runGrid } from "./grid.ts";
import { importSpec } from "./cell_runner.ts";
import type { PaperEntry } from "./papers.ts";
import { emitSlurm } from "./slurm.ts";

await initBackend({ backend: "cpu", announce: false });

const toy: PaperEntry = {
  name: "toy",
  title: "A toy paper",
  module: new URL("./testdata/toy_spec.ts", import.meta.url).href,
};
const baseline: PaperEntry = {
  name: "baseline",
  title: "Baseline",
  module: new URL("../papers/baseline/spec.ts", import.meta.url).href,
};

async function bashSyntaxOk(path: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-n", path], stderr: "piped" }).output();
  assert.equal(out.code, 0, `${path}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("--emit slurm: one task per pending cell, rows with needs in a later array, stored cells skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "slurm_emit_" });
  try {
    const roots = { results: `${dir}/results`, work: `${dir}/work` };
    const spec = await importSpec(toy.module);
    // One cell already stored for the current definition: it must not be in the array.
    await runCellAndStore(
      spec,
      {
        paper: "toy",
        scale: "cpu",
        row: "narrow",
        seed: 0,
        quick: true,
      },
      roots,
      { log: () => {} },
    );
    const out = await emitSlurm({
      registry: [toy],
      quick: true,
      seeds: 2,
      partition: "gpu-a100",
      maxParallel: 4,
      ...roots,
    });
    const text = (p: string) => Deno.readTextFile(p);
    const cells = (i: number) => text(out.levels[i].file).then((t) => t.trim().split("\n"));
    assert.equal(out.reused, 1);
    assert.deepEqual(await cells(0), [
      "toy\tnarrow\t1",
      "toy\twide\t0",
      "toy\twide\t1",
      "toy\tfails\t0",
      "toy\tfails\t1",
    ]);
    // finetune needs wide and after-fails needs fails: they wait for the first array.
    assert.deepEqual(await cells(1), [
      "toy\tfinetune\t0",
      "toy\tfinetune\t1",
      "toy\tafter-fails\t0",
      "toy\tafter-fails\t1",
    ]);
    const array = await text(out.arrayScript);
    assert.match(array, /#SBATCH --partition=gpu-a100/);
    assert.match(array, /#SBATCH --cpus-per-task=1\n/);
    assert.match(array, /lib\/cli\/cell\.ts --paper "\$paper" --row "\$row" --seed "\$seed"/);
    assert.match(array, new RegExp(`--scale cpu --quick --results ${roots.results} `));
    assert.match(array, /--backend wasm/);
    const submit = await text(out.submitScript);
    assert.match(submit, /--array=0-4%4 .*cells-0\.tsv/);
    assert.match(submit, /--array=0-3%4 "\$\{dep\[@\]\}" .*cells-1\.tsv/);
    assert.match(submit, /--dependency=afterany:/);
    const finish = await text(out.finishScript);
    assert.match(
      finish,
      /reproduce\.ts --summarize-only --paper toy --scale cpu --seeds 2 --quick/,
    );
    for (const p of [out.arrayScript, out.finishScript, out.submitScript]) await bashSyntaxOk(p);
    // Paper scale asks for a GPU per task and the WebGPU backend.
    const paper = await emitSlurm({ registry: [toy], scale: "paper", seeds: 1, ...roots });
    const paperArray = await text(paper.arrayScript);
    assert.match(paperArray, /#SBATCH --gres=gpu:1/);
    assert.match(paperArray, /--backend webgpu/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `deno task cell` (the array task's command) and returns its exit code and report. */
async function cellProcess(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, "lib/cli/cell.ts"), ...args],
    cwd: REPO_ROOT,
    env: { REID_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { code: out.code, report: JSON.parse(lines.at(-1) || "{}") };
}

Deno.test("deno task cell: two processes racing on one cell train it once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cell_race_" });
  try {
    const args = [
      "--paper",
      "baseline",
      "--row",
      "id",
      "--seed",
      "0",
      "--quick",
      "--results",
      `${dir}/results`,
      "--work",
      `${dir}/work`,
    ];
    const runs = await Promise.all([cellProcess(args), cellProcess(args)]);
    assert.deepEqual(runs.map((r) => r.code), [0, 0]);
    assert.deepEqual(runs.map((r) => r.report.status).sort(), ["done", "reused"]);
    assert.equal(runs[0].report.path, runs[1].report.path);
    const bad = await cellProcess(["--paper", "nope", "--row", "id", "--seed", "0"]);
    assert.equal(bad.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Brings up the single-node Slurm of `.ci/slurm_up.sh`; null when it is up, else why not. */
async function slurmUnavailable(): Promise<string | null> {
  try {
    const out = await new Deno.Command("bash", {
      args: [join(REPO_ROOT, ".ci/slurm_up.sh")],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(out.stdout).trim();
    return out.code === 0 ? null : said || new TextDecoder().decode(out.stderr).trim();
  } catch (error) {
    return (error as Error).message;
  }
}

const unavailable = await slurmUnavailable();
if (unavailable) {
  console.log(`slurm_test: no Slurm here, the real-cluster test is skipped: ${unavailable}`);
}

async function waitForJobs(ids: string[], timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const out = await new Deno.Command("squeue", {
      args: ["-h", "-j", ids.join(",")],
      stdout: "piped",
    })
      .output();
    if (new TextDecoder().decode(out.stdout).trim() === "") return;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`Slurm jobs ${ids.join(", ")} still queued after ${timeoutMs / 1000} s`);
}

Deno.test({
  name: "a real Slurm runs the emitted array and finishing job; results equal a local run",
  ignore: unavailable !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "slurm_real_" });
    try {
      const cluster = { results: `${dir}/cluster`, work: `${dir}/cluster-work` };
      const out = await emitSlurm({ registry: [baseline], quick: true, seeds: 1, ...cluster });
      assert.equal(out.pending.length, 3, "baseline's three rows, one seed");
      const submit = await new Deno.Command("bash", { args: [out.submitScript], stdout: "piped" })
        .output();
      const said = new TextDecoder().decode(submit.stdout);
      assert.equal(submit.code, 0, said);
      const ids = [...said.matchAll(/(?:array 0|finish job): (\d+)/g)].map((m) => m[1]);
      assert.equal(ids.length, 2, said);
      await waitForJobs(ids, 15 * 60_000);
      const summary = JSON.parse(
        await Deno.readTextFile(`${cluster.results}/baseline/cpu-quick/summary.json`),
      );
      assert.deepEqual(
        summary.cells.map((c: { status: string }) => c.status),
        ["reused", "reused", "reused"],
        "the finishing job found every cell stored",
      );
      // The same cells on this machine, as `reproduce` runs them (worker processes, one thread).
      const local = { results: `${dir}/local`, work: `${dir}/local-work` };
      const grid = await runGrid({
        specModule: baseline.module,
        scale: "cpu",
        seeds: [0],
        quick: true,
        roots: local,
        echo: false,
        log: () => {},
      });
      assert.equal(grid.failed, 0);
      for (const key of out.pending) {
        const read = async (root: string) =>
          JSON.parse(
            await Deno.readTextFile(`${root}/baseline/cpu-quick/${key.row}/seed${key.seed}.json`),
          );
        const [a, b] = await Promise.all([read(cluster.results), read(local.results)]);
        assert.equal(a.configHash, b.configHash);
        assert.deepEqual(a.metrics, b.metrics, `${key.row}: cluster and local metrics differ`);
      }
      // Everything is stored now: a second emission has nothing left to run.
      const again = await emitSlurm({ registry: [baseline], quick: true, seeds: 1, ...cluster });
      assert.deepEqual([again.pending.length, again.reused], [0, 3]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
