/**
 * Grids beyond one machine: `reproduce --emit slurm` writes a Slurm job array with one task per
 * pending cell (each task is one `deno task cell` call, writing its result atomically into the
 * shared results folder), and a job that depends on the array and then builds the summaries
 * and notebooks from the stored cells (`reproduce --summarize-only`). Finished cells are
 * skipped exactly as a local run skips them (the same plan, `planGrid`). See the README,
 * 'Running on a cluster'.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../runtime/fs.ts";
import { REPO_ROOT } from "../runtime/paths.ts";
import { seedList } from "./config.ts";
import { planGrid } from "./grid.ts";
import { importSpec } from "./cell_runner.ts";
import { type PaperEntry, selectPapers } from "./papers.ts";
import type { Scale } from "./spec.ts";
import { type CellKey, scaleDir } from "./store.ts";

/** What one array task asks of the scheduler, per scale. */
export interface SlurmResources {
  cpusPerTask: number;
  mem: string;
  time: string;
  /** e.g. "gpu:1"; null for CPU-only tasks. */
  gres: string | null;
  /** The backend each task initialises. */
  backend: string;
}

/**
 * CPU scale: one core per task (the wasm backend with oneDNN runs one thread per grid
 * worker), minutes per cell. Paper scale: one GPU per task, ResNet-50 schedules of hours; the
 * WebGPU backend needs no install step (`--backend tensorflow` for tfjs-node-gpu).
 */
export const SLURM_RESOURCES: Record<Scale, SlurmResources> = {
  cpu: { cpusPerTask: 1, mem: "6G", time: "02:00:00", gres: null, backend: "wasm" },
  paper: { cpusPerTask: 8, mem: "64G", time: "3-00:00:00", gres: "gpu:1", backend: "webgpu" },
};

/** Options of {@link emitSlurm}. */
export interface EmitSlurmOptions {
  registry: readonly PaperEntry[];
  papers?: string[];
  scale?: Scale;
  seeds?: number;
  quick?: boolean;
  worldSeed?: number;
  force?: boolean;
  /** Overrides the scale's backend. */
  backend?: string;
  /** Slurm partition (default: the cluster's default one). */
  partition?: string;
  /** Shared results folder (default `<repo>/results`). */
  results?: string;
  /** Shared scratch folder for checkpoints (default `<repo>/data/runs`). */
  work?: string;
  /** Where the scripts go (default `<results>/slurm/<scale dir>`). */
  out?: string;
  /** The deno the tasks run (default this process's; a cluster may put it elsewhere). */
  deno?: string;
  /** How many array tasks may run at once (Slurm's `%N`; default unlimited). */
  maxParallel?: number;
}

/** What {@link emitSlurm} wrote. */
export interface EmittedSlurm {
  dir: string;
  arrayScript: string;
  finishScript: string;
  submitScript: string;
  /** Cells the arrays train, in task order: one array per level of row `needs`. */
  pending: CellKey[];
  /** The cell files, one per level (level L's cells need only cells of levels below L). */
  levels: { file: string; cells: CellKey[] }[];
  /** Cells already stored for the current definition (not in the array). */
  reused: number;
}

/** A word for a shell line: quoted unless it is plain. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Writes the job array, the finishing job and `submit.sh` for the pending cells of the
 * selected papers; throws (before writing anything) on what a local run would refuse.
 */
export async function emitSlurm(options: EmitSlurmOptions): Promise<EmittedSlurm> {
  const scale = options.scale ?? "cpu";
  const quick = options.quick ?? false;
  const results = resolve(options.results ?? join(REPO_ROOT, "results"));
  const work = resolve(options.work ?? join(REPO_ROOT, "data", "runs"));
  const entries = selectPapers(options.papers ?? [], options.registry);
  const pending: CellKey[] = [];
  const levelOf: number[] = [];
  let reused = 0;
  for (const entry of entries) {
    const spec = await importSpec(entry.module);
    const seeds = seedList(spec, options.seeds);
    const depth = (id: string, seen: string[] = []): number => {
      if (seen.includes(id)) {
        throw new Error(`paper ${spec.paper}: rows need each other (${seen.join(" → ")})`);
      }
      const needs = spec.rows.find((r) => r.id === id)?.needs ?? [];
      return needs.length === 0 ? 0 : 1 + Math.max(...needs.map((n) => depth(n, [...seen, id])));
    };
    const plan = await planGrid(spec, {
      scale,
      seeds,
      quick,
      worldSeed: options.worldSeed,
      force: options.force,
      roots: { results, work },
    });
    // A row that starts from another row's artifacts (its `needs`) runs in a later array, which
    // waits for the earlier one (the local grid orders them the same way).
    for (const key of plan.pending) {
      pending.push(key);
      levelOf.push(depth(key.row));
    }
    reused += plan.reused.length;
  }
  const dir = resolve(
    options.out ?? join(results, "slurm", scaleDir(scale, quick, options.worldSeed)),
  );
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  const res = SLURM_RESOURCES[scale];
  const backend = options.backend ?? res.backend;
  const deno = options.deno ?? Deno.execPath();
  const levels: EmittedSlurm["levels"] = [];
  for (let level = 0; level <= Math.max(-1, ...levelOf); level++) {
    const cells = pending.filter((_, i) => levelOf[i] === level);
    if (cells.length === 0) continue;
    const file = join(dir, `cells-${level}.tsv`);
    await writeFileAtomic(file, cells.map((k) => `${k.paper}\t${k.row}\t${k.seed}\n`).join(""));
    levels.push({ file, cells });
  }
  const header = (name: string, extra: string[]) => [
    "#!/usr/bin/env bash",
    `#SBATCH --job-name=${name}`,
    ...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []),
    ...extra,
    "set -euo pipefail",
    `cd ${sh(REPO_ROOT)}`,
    `DENO=\${DENO:-${sh(deno)}}`,
  ];
  const cellFlags = [
    "--scale",
    scale,
    ...(quick ? ["--quick"] : []),
    ...(options.worldSeed === undefined ? [] : ["--world-seed", String(options.worldSeed)]),
    ...(options.force ? ["--force"] : []),
    "--results",
    results,
    "--work",
    work,
    "--backend",
    backend,
  ].map(sh).join(" ");
  const arrayScript = join(dir, "array.sbatch");
  const throttle = options.maxParallel ? `%${options.maxParallel}` : "";
  await writeFileAtomic(
    arrayScript,
    [
      ...header("reid-cells", [
        "# --array=0-<cells−1> and the cells file ($1) come from submit.sh.",
        `#SBATCH --cpus-per-task=${res.cpusPerTask}`,
        `#SBATCH --mem=${res.mem}`,
        `#SBATCH --time=${res.time}`,
        ...(res.gres ? [`#SBATCH --gres=${res.gres}`] : []),
        `#SBATCH --output=${dir}/logs/cell-%A_%a.log`,
      ]),
      "# One line of the cells file per task: paper, row, seed.",
      `IFS=$'\\t' read -r paper row seed < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$1")`,
      // One compute thread per allotted core (oneDNN / the wasm backend read this).
      "export REID_THREADS=${SLURM_CPUS_PER_TASK:-1} OMP_WAIT_POLICY=PASSIVE",
      `exec "$DENO" run -A lib/cli/cell.ts --paper "$paper" --row "$row" --seed "$seed" ${cellFlags}`,
      "",
    ].join("\n"),
  );
  const finishScript = join(dir, "finish.sbatch");
  const paperFlags = entries.flatMap((e) => ["--paper", e.name]);
  const seedFlags = options.seeds === undefined ? [] : ["--seeds", String(options.seeds)];
  await writeFileAtomic(
    finishScript,
    [
      ...header("reid-finish", [
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem=8G",
        "#SBATCH --time=02:00:00",
        `#SBATCH --output=${dir}/logs/finish-%j.log`,
      ]),
      "# After the array (whatever became of each task): summaries and notebooks from the stored",
      "# cells; a missing or failed cell is reported as such, never retrained here.",
      `exec "$DENO" run -A lib/cli/reproduce.ts --summarize-only ${
        [
          ...paperFlags,
          "--scale",
          scale,
          ...seedFlags,
          ...(quick ? ["--quick"] : []),
          ...(options.worldSeed === undefined ? [] : ["--world-seed", String(options.worldSeed)]),
          "--results",
          results,
          "--work",
          work,
        ].map(sh).join(" ")
      }`,
      "",
    ].join("\n"),
  );
  const submitScript = join(dir, "submit.sh");
  await writeFileAtomic(
    submitScript,
    [
      "#!/usr/bin/env bash",
      "# Submits the cell array, then the finishing job to run after it (afterany: it also",
      "# reports the cells that failed). Prints both job ids.",
      "set -euo pipefail",
      "dep=()",
      ...levels.flatMap(({ file, cells }, i) => [
        `a${i}=$(sbatch --parsable --array=0-${cells.length - 1}${throttle} "\${dep[@]}" ${
          sh(arrayScript)
        } ${sh(file)})`,
        `dep=(--dependency=afterany:\${a${i}%%;*})`,
        `echo "cell array ${i}: \$a${i} (${cells.length} cells)"`,
      ]),
      `finish=$(sbatch --parsable "\${dep[@]}" ${sh(finishScript)})`,
      'echo "finish job: $finish"',
      "",
    ].join("\n"),
  );
  await Deno.chmod(submitScript, 0o755);
  return { dir, arrayScript, finishScript, submitScript, pending, levels, reused };
}
