/**
 * The worker process of the grid: runs one cell and exits. Each worker initialises its
 * own backend (the wasm backend is single-threaded, so two workers use two cores).
 *
 * ```
 * deno run -A lib/experiments/cell_runner.ts --spec <module URL> --row R --seed N
 *   --scale cpu|paper [--quick] [--world-seed N] [--force] --results DIR --work DIR [--backend NAME]
 * ```
 *
 * The last line on stdout is a JSON report: `{"status": "done"|"reused"|"failed", ...}`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend } from "../runtime/backend.ts";
import { runCellLocked } from "./cell.ts";
import type { PaperSpec, Scale } from "./spec.ts";
import { validateSpec } from "./spec.ts";

/** Imports a paper spec module: its `spec` export, else its default export. */
export async function importSpec(specifier: string): Promise<PaperSpec> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(specifier);
  } catch (error) {
    throw new Error(`cannot import paper spec module ${specifier}: ${(error as Error).message}`);
  }
  const spec = (mod.spec ?? mod.default) as PaperSpec | undefined;
  if (!spec || typeof spec !== "object") {
    throw new Error(`${specifier}: exports no \`spec\` (or default) paper spec`);
  }
  validateSpec(spec, specifier);
  return spec;
}

/**
 * Runs the cell the arguments name (under the cell's lock, so a racing twin waits and reuses)
 * and prints the JSON report as the last stdout line; resolves to the exit code.
 */
export async function runCellCli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      spec: { type: "string" },
      row: { type: "string" },
      seed: { type: "string" },
      scale: { type: "string", default: "cpu" },
      quick: { type: "boolean", default: false },
      "world-seed": { type: "string" },
      force: { type: "boolean", default: false },
      results: { type: "string", default: "results" },
      work: { type: "string", default: "data/runs" },
      backend: { type: "string" },
    },
  });
  const report = (obj: Record<string, unknown>) => console.log(JSON.stringify(obj));
  try {
    if (!values.spec || !values.row || values.seed === undefined) {
      throw new Error("cell_runner: --spec, --row and --seed are required");
    }
    if (values.scale !== "cpu" && values.scale !== "paper") {
      throw new Error(`cell_runner: --scale must be cpu or paper, got ${values.scale}`);
    }
    const seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`cell_runner: bad --seed ${values.seed}`);
    }
    const worldSeed = values["world-seed"] === undefined ? undefined : Number(values["world-seed"]);
    if (worldSeed !== undefined && (!Number.isSafeInteger(worldSeed) || worldSeed < 0)) {
      throw new Error(`cell_runner: bad --world-seed ${values["world-seed"]}`);
    }
    await initBackend({ args: values.backend ? ["--backend", values.backend] : [] });
    const spec = await importSpec(values.spec);
    const outcome = await runCellLocked(
      spec,
      {
        paper: spec.paper,
        scale: values.scale as Scale,
        row: values.row,
        seed,
        quick: values.quick,
        worldSeed,
      },
      { results: values.results, work: values.work },
      { force: values.force },
    );
    report({ status: outcome.status, path: outcome.path, seconds: outcome.result.timings.seconds });
    return 0;
  } catch (error) {
    const err = error as Error;
    console.error(err.stack ?? err.message);
    report({ status: "failed", error: err.message });
    return 1;
  }
}

if (import.meta.main) Deno.exit(await runCellCli(Deno.args));
