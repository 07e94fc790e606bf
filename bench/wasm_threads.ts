/**
 * Single-threaded vs threaded wasm, and vs two single-threaded processes side
 * by side, measured in one run as ratios (the machine is shared, so absolute
 * times drift; each round runs the variants back to back, in alternating
 * order, and the ratios are taken within a round).
 *
 *     deno run -A bench/wasm_threads.ts [--rounds 3] [--steps 4] [--threads 2] [--nice=-15]
 *
 * On a machine busy with other jobs the variants only share out the same
 * cores; `--nice=-15` (root only) runs the children ahead of the other jobs,
 * which approximates an otherwise idle machine.
 *
 * Each measurement is a child process (a process has one wasm module, so
 * builds and thread counts cannot change inside one):
 * `--child conv|train --build simd|threaded --threads N` prints one JSON line
 * with its median milliseconds and the CPU time it used per wall second.
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
  build: string;
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

/** Starts wasm: the SIMD build (1 thread) or the threaded SIMD build with `threads` threads. */
async function startWasm(build: string, threads: number): Promise<number> {
  setWasmPaths(wasmBinaryDir());
  registerWasmGradientKernels();
  if (build === "threaded") {
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

async function timeTrain(steps: number): Promise<number> {
  const fixture = trainStepFixture(BATCH);
  await fixture.run(1);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await fixture.run(1);
    times.push(performance.now() - start);
  }
  fixture.dispose();
  return median(times);
}

/** One measured configuration: what to time, on which build, with how many threads. */
interface Variant {
  what: "conv" | "train";
  build: "simd" | "threaded";
  threads: number;
}

async function child(variant: Variant, reps: number): Promise<void> {
  const actual = await startWasm(variant.build, variant.threads);
  const cpu = processCpuSeconds();
  const wall = performance.now();
  const ms = variant.what === "conv" ? timeConv(reps) : await timeTrain(reps);
  const cpuPerWall = (processCpuSeconds() - cpu) / ((performance.now() - wall) / 1000);
  const result: ChildResult = { ...variant, threads: actual, ms, cpuPerWall };
  console.log(JSON.stringify(result));
}

/** Runs one child process per variant, all at once, and returns their results. */
async function runChildren(
  variants: Variant[],
  reps: number,
  nice = 0,
): Promise<ChildResult[]> {
  const script = new URL(import.meta.url).pathname;
  const outputs = await Promise.all(
    variants.map(({ what, build, threads }) =>
      new Deno.Command(nice === 0 ? Deno.execPath() : "nice", {
        args: [
          ...(nice === 0 ? [] : ["-n", String(nice), Deno.execPath()]),
          ...["run", "-A", script, "--child", what, "--build", build],
          ...["--threads", String(threads), "--steps", String(reps)],
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
        `child ${JSON.stringify(variants[i])} failed: ${new TextDecoder().decode(output.stderr)}`,
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

function describe(r: ChildResult): string {
  return `${r.ms.toFixed(0)} ms (cpu/wall ${r.cpuPerWall.toFixed(2)})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      build: { type: "string", default: "simd" },
      threads: { type: "string", default: "2" },
      steps: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      nice: { type: "string", default: "0" },
    },
  });
  const threads = Number(values.threads);
  const reps = Number(values.steps);
  const nice = Number(values.nice);
  if (values.child) {
    const what = values.child === "conv" ? "conv" : "train";
    const build = values.build === "threaded" ? "threaded" : "simd";
    return await child({ what, build, threads }, reps);
  }

  console.log(
    `load average at start: ${load()} (2 cores, shared with other jobs); ` +
      `children at nice ${nice}`,
  );
  const ratios: Record<string, number[]> = { conv: [], train: [], train1: [], pair: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    const simd = (what: Variant["what"]): Variant => ({ what, build: "simd", threads: 1 });
    const threaded = (what: Variant["what"], n: number): Variant => ({
      what,
      build: "threaded",
      threads: n,
    });
    // Alternate the order so drifting load does not favour one variant.
    const inOrder = <T>(items: T[]): T[] => round % 2 ? [...items].reverse() : items;
    const one = async (variant: Variant, n: number) => (await runChildren([variant], n, nice))[0];
    const conv: ChildResult[] = [];
    for (const v of inOrder([simd("conv"), threaded("conv", threads)])) conv.push(await one(v, 5));
    const train: ChildResult[] = [];
    for (const v of inOrder([simd("train"), threaded("train", 1), threaded("train", threads)])) {
      train.push(await one(v, reps));
    }
    if (round % 2) {
      conv.reverse();
      train.reverse();
    }
    const [convSimd, convThreaded] = conv;
    const [trainSimd, trainThreaded1, trainThreaded] = train;
    const pair = await runChildren([simd("train"), simd("train")], reps, nice);
    const alone = BATCH / (trainSimd.ms / 1000);
    const together = pair.reduce((sum, r) => sum + BATCH / (r.ms / 1000), 0);
    ratios.conv.push(convSimd.ms / convThreaded.ms);
    ratios.train.push(trainSimd.ms / trainThreaded.ms);
    ratios.train1.push(trainSimd.ms / trainThreaded1.ms);
    ratios.pair.push(together / alone);
    console.log(
      [
        `round ${round + 1}:`,
        `  conv2d [16,56,56,64]*[3,3,64,64]: SIMD ${describe(convSimd)}, threaded ×${threads} ` +
        `${describe(convThreaded)} → speed-up ×${ratios.conv.at(-1)!.toFixed(2)}`,
        `  train step (batch ${BATCH}): SIMD ${describe(trainSimd)}, threaded ×1 ` +
        `${describe(trainThreaded1)}, threaded ×${threads} ${describe(trainThreaded)} → ` +
        `speed-up ×${ratios.train.at(-1)!.toFixed(2)} (threaded ×1: ×${
          ratios.train1.at(-1)!.toFixed(2)
        })`,
        `  two SIMD processes at once: ${pair.map(describe).join(" + ")} per step, ` +
        `${together.toFixed(1)} img/s together vs ${alone.toFixed(1)} alone → ×${
          ratios.pair.at(-1)!.toFixed(2)
        }`,
      ].join("\n"),
    );
  }
  const m = (key: string) => median(ratios[key]).toFixed(2);
  console.log(
    `median over rounds: conv2d ×${m("conv")}, train step ×${m("train")} ` +
      `(${threads} threads vs SIMD build; threaded build at 1 thread ×${m("train1")}), ` +
      `two processes ×${m("pair")} aggregate images/s`,
  );
  console.log(`load average at end: ${load()}`);
}

if (import.meta.main) await main();
