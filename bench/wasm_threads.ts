/**
 * Single-threaded vs threaded wasm, and vs two single-threaded processes side
 * by side, measured in one run as ratios (the machine is shared, so absolute
 * times drift; each round runs the variants back to back, in alternating
 * order, and the ratios are taken within a round).
 *
 *     deno run -A bench/wasm_threads.ts [--rounds 3] [--steps 4] [--threads 2]
 *
 * Each measurement is a child process (a process has one wasm module, so
 * thread counts cannot change inside one): `--child conv|train --threads N`
 * prints one JSON line with its median milliseconds.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { wasmBinaryDir } from "../lib/runtime/backend.ts";
import { registerWasmGradientKernels } from "../lib/runtime/wasm_kernels.ts";
import { enableWasmThreads } from "../lib/runtime/wasm_threads.ts";
import { trainStepFixture } from "./train_step.ts";

const BATCH = 64;

interface ChildResult {
  what: string;
  threads: number;
  /** Median milliseconds per conv2d call or per training step. */
  ms: number;
  /**
   * CPU time of the whole process (all threads) over wall time while timing:
   * near 1 means one core worked, near the thread count means they all did.
   */
  cpuPerWall: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** CPU seconds used so far by all threads of this process (Linux). */
function processCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 Hz on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startWasm(threads: number): Promise<number> {
  setWasmPaths(wasmBinaryDir());
  registerWasmGradientKernels();
  if (threads > 1) {
    const result = await enableWasmThreads(threads);
    if (!result.started) throw new Error(`threads did not start: ${result.reason}`);
    return result.threads;
  }
  setThreadsCount(1);
  if (!(await tf.setBackend("wasm"))) throw new Error("wasm backend did not start");
  return 1;
}

/** Times one big 3×3 convolution (the XNNPACK path the training step spends most time in). */
function timeConv(reps: number): number {
  const x = tf.randomNormal([16, 56, 56, 64], 0, 1, "float32", 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64], 0, 0.1, "float32", 2) as tf.Tensor4D;
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const start = performance.now();
    const y = tf.conv2d(x, w, 1, "same");
    y.dataSync();
    if (i > 0) times.push(performance.now() - start); // the first call builds the XNNPACK operator
    y.dispose();
  }
  tf.dispose([x, w]);
  return median(times);
}

function timeTrain(steps: number): number {
  const fixture = trainStepFixture(BATCH);
  fixture.run(1);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    fixture.run(1);
    times.push(performance.now() - start);
  }
  fixture.dispose();
  return median(times);
}

async function child(what: string, threads: number, reps: number): Promise<void> {
  const actual = await startWasm(threads);
  const cpu = processCpuSeconds();
  const wall = performance.now();
  const ms = what === "conv" ? timeConv(reps) : timeTrain(reps);
  const cpuPerWall = (processCpuSeconds() - cpu) / ((performance.now() - wall) / 1000);
  const result: ChildResult = { what, threads: actual, ms, cpuPerWall };
  console.log(JSON.stringify(result));
}

/** Runs children at once and returns their results. */
async function runChildren(
  specs: { what: string; threads: number }[],
  reps: number,
): Promise<ChildResult[]> {
  const script = new URL(import.meta.url).pathname;
  const outputs = await Promise.all(
    specs.map(({ what, threads }) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          script,
          "--child",
          what,
          "--threads",
          String(threads),
          "--steps",
          String(reps),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output()
    ),
  );
  return outputs.map((output, i) => {
    const text = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
    if (!output.success || !text.startsWith("{")) {
      throw new Error(
        `child ${JSON.stringify(specs[i])} failed: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    return JSON.parse(text) as ChildResult;
  });
}

function load(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      threads: { type: "string", default: "2" },
      steps: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
    },
  });
  const threads = Number(values.threads);
  const reps = Number(values.steps);
  if (values.child) return await child(values.child, threads, reps);

  console.log(`load average at start: ${load()} (2 cores, shared)`);
  const convRatios: number[] = [];
  const trainRatios: number[] = [];
  const pairRatios: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    // Alternate the order so drifting load does not favour one variant.
    const order = round % 2 ? [threads, 1] : [1, threads];
    const conv: Record<number, number> = {};
    const train: Record<number, number> = {};
    for (const n of order) conv[n] = (await runChildren([{ what: "conv", threads: n }], 5))[0].ms;
    for (const n of order) {
      train[n] = (await runChildren([{ what: "train", threads: n }], reps))[0].ms;
    }
    const pair = await runChildren([
      { what: "train", threads: 1 },
      { what: "train", threads: 1 },
    ], reps);
    const alone = BATCH / train[1];
    const together = pair.reduce((sum, r) => sum + BATCH / r.ms, 0);
    convRatios.push(conv[1] / conv[threads]);
    trainRatios.push(train[1] / train[threads]);
    pairRatios.push(together / alone);
    console.log(
      `round ${round + 1}: conv2d [16,56,56,64]*[3,3,64,64] ${
        conv[1].toFixed(0)
      } ms (1 thread) vs ` +
        `${conv[threads].toFixed(0)} ms (${threads} threads) → ×${
          convRatios.at(-1)!.toFixed(2)
        }; ` +
        `train step (batch ${BATCH}) ${train[1].toFixed(0)} ms vs ${
          train[threads].toFixed(0)
        } ms → ` +
        `×${trainRatios.at(-1)!.toFixed(2)}; two 1-thread processes: ` +
        `${pair.map((r) => r.ms.toFixed(0)).join(" + ")} ms/step, aggregate ` +
        `${together.toFixed(1)} img/s vs ${alone.toFixed(1)} alone → ×${
          pairRatios.at(-1)!.toFixed(2)
        }`,
    );
  }
  console.log(
    `median speed-ups: conv2d ×${median(convRatios).toFixed(2)}, ` +
      `train step ×${median(trainRatios).toFixed(2)} (${threads} threads vs 1), ` +
      `two processes ×${median(pairRatios).toFixed(2)} aggregate throughput`,
  );
  console.log(`load average at end: ${load()}`);
}

if (import.meta.main) await main();
