/**
 * The threaded wasm build must start under Deno, use its threads, compute
 * what the single-threaded build and the cpu backend compute, and let the
 * process end by itself.
 *
 * A process holds one wasm module, so each wasm variant runs in a child
 * process: this file run with `deno run` (where `Deno.test` does nothing)
 * prints the convolutions of seeded inputs as JSON.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { initBackend, wasmBinaryDir } from "./backend.ts";
import { Rng } from "./random.ts";
import { readValues } from "./testing.ts";
import { enableWasmThreads } from "./wasm_threads.ts";

/** Convolutions that XNNPACK splits over threads: stride 1 and 2, with bias-free filters. */
const CASES: {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
}[] = [
  { x: [2, 24, 24, 16], w: [3, 3, 16, 24], stride: 1 },
  { x: [3, 17, 13, 8], w: [5, 5, 8, 12], stride: 2 },
];

function convolutions(): Promise<Float32Array[]> {
  const rng = new Rng(7);
  return Promise.all(CASES.map(({ x, w, stride }, i) =>
    readValues(() => {
      const input = rng.fork(`x${i}`).normalArray(x.reduce((a, b) => a * b));
      const filter = rng.fork(`w${i}`).normalArray(w.reduce((a, b) => a * b), 0, 0.2);
      return tf.conv2d(tf.tensor4d(input, x), tf.tensor4d(filter, w), stride, "same");
    })
  ));
}

interface ChildOutput {
  started: boolean;
  threads: number;
  reason: string;
  /** Clock ticks burnt by the pool's worker threads while convolving. */
  workerTicks: number;
  results: number[][];
}

/** Clock ticks of this process's wasm pool threads (named worker-N by Deno). */
function workerTicks(): number {
  let ticks = 0;
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    const stat = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`);
    if (!stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).startsWith("worker-")) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

async function child(threads: number): Promise<void> {
  setWasmPaths(wasmBinaryDir());
  let status = { started: false, threads: 1, reason: "single-threaded on purpose" };
  if (threads > 1) {
    status = await enableWasmThreads(threads);
  } else {
    setThreadsCount(1);
    await tf.setBackend("wasm");
  }
  const before = workerTicks();
  // Repeated so that the worker thread's share shows up in whole clock ticks.
  let results = await convolutions();
  for (let i = 0; i < 20; i++) results = await convolutions();
  const output: ChildOutput = {
    ...status,
    workerTicks: workerTicks() - before,
    results: results.map((r) => Array.from(r)),
  };
  console.log(JSON.stringify(output));
  // No Deno.exit: the test checks that the idle thread pool lets the process end.
}

async function runChild(threads: number): Promise<ChildOutput> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, String(threads)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(25_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `child with ${threads} threads failed or hung: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);
}

function relativeError(actual: number[], expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

if (import.meta.main) {
  await child(Number(Deno.args[0]));
} else {
  await initBackend({ backend: "cpu", announce: false });
}

Deno.test("threaded wasm starts, uses 2 threads, matches single-threaded wasm and cpu", async () => {
  const [single, threaded] = await Promise.all([runChild(1), runChild(2)]);
  assert.equal(threaded.started, true, threaded.reason);
  assert.equal(threaded.threads, 2);
  assert.ok(threaded.workerTicks > 0, "the pool's worker thread did no work");
  assert.equal(single.workerTicks, 0);
  const cpu = await convolutions();
  for (let i = 0; i < CASES.length; i++) {
    assert.equal(threaded.results[i].length, cpu[i].length);
    const vsCpu = relativeError(threaded.results[i], cpu[i]);
    const vsSingle = relativeError(threaded.results[i], single.results[i]);
    assert.ok(vsCpu < 1e-4, `case ${i}: threaded vs cpu relative error ${vsCpu}`);
    assert.ok(vsSingle < 1e-4, `case ${i}: threaded vs single-threaded ${vsSingle}`);
    assert.ok(relativeError(single.results[i], cpu[i]) < 1e-4);
  }
});

Deno.test("enableWasmThreads rejects thread counts outside 1..8", async () => {
  await assert.rejects(() => enableWasmThreads(0), /integer from 1 to 8, got 0/);
  await assert.rejects(() => enableWasmThreads(9), /integer from 1 to 8, got 9/);
  await assert.rejects(() => enableWasmThreads(2.5), /got 2.5/);
});
