/**
 * A paper spec for the fault-injection tests (issue 12): cells that need no tensors (so a
 * worker finishes in about a second) and that fail in the ways real runs fail — NaN
 * metrics, a non-finite loss, a diverging loss stopped by the guard, a failure switched on
 * from outside (a file in the cell's scratch folder), and a cell that waits (when its
 * scratch folder holds `wait`) so that a test can kill its worker mid-run.
 *
 * @module
 */
import { gt } from "../claims.ts";
import type { PaperSpec } from "../spec.ts";
import { FiniteGuard } from "../../train/finite.ts";

/** The fault spec's config. */
export type FaultConfig = { kind: string; steps: number };

/** The fault spec. */
export const spec: PaperSpec<FaultConfig> = {
  paper: "faults",
  title: "Fault injection",
  version: "1",
  base: { cpu: { kind: "good", steps: 6 }, paper: { kind: "good", steps: 6 } },
  quick: { steps: 4 },
  metrics: ["acc"],
  seeds: 2,
  rows: [
    { id: "good", label: "Good", delta: {}, paper: { acc: 60 } },
    { id: "other", label: "Other", delta: {}, paper: { acc: 50 } },
    { id: "nan", label: "NaN metric", delta: { kind: "nan" } },
    { id: "inf-loss", label: "Infinite loss", delta: { kind: "inf-loss" } },
    { id: "diverge", label: "Diverging loss", delta: { kind: "diverge" } },
    { id: "slow", label: "Waits for a go", delta: { kind: "slow" } },
  ],
  claims: [{ id: "C1", text: "Good beats other", parts: [gt("good", "other", "acc")] }],
  async runCell(config, _seed, context) {
    const rng = context.rng.fork("metrics");
    if (await exists(`${context.dir}/fail`)) throw new Error("failure injected by the test");
    // Waits only when a test asks it to (a `wait` file), so whole-grid runs stay fast.
    if (config.kind === "slow" && await exists(`${context.dir}/wait`)) {
      await Deno.writeTextFile(`${context.dir}/pid`, String(Deno.pid));
      const t0 = Date.now();
      while (!(await exists(`${context.dir}/go`)) && Date.now() - t0 < 30_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const guard = new FiniteGuard();
    let loss = 1 + rng.float();
    for (let step = 0; step < config.steps; step++) {
      loss = config.kind === "diverge" ? loss * 1e4 : loss * 0.8;
      const recorded = config.kind === "inf-loss" && step === 2 ? Infinity : loss;
      if (config.kind === "diverge") guard.check(step, { l_total: recorded });
      context.history.record(step, { loss: recorded });
    }
    const acc = 50 + 10 * rng.float() + (context.row === "good" ? 10 : 0);
    return { acc: config.kind === "nan" ? NaN : acc };
  },
};

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
