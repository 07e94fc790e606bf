/**
 * `deno task bench [train] [cpu] [eval]`: speed figures, printed, never asserted.
 *
 * - `train`: one training step (forward, backward, Adam) of the CPU-scale
 *   backbone (small BN ResNet, 64×32, batch 64) on wasm with the native kernel
 *   path the machine has (lib/runtime/fast_kernels.ts), beside the same
 *   architecture in PyTorch (Debian's python3-torch), measured alternately in
 *   rounds within one run, since absolute timings on a shared machine drift:
 *   1 thread against PyTorch's 1; 2 threads (`REID_THREADS=2`) and two
 *   single-threaded processes side by side (how the grid runner uses both
 *   cores) against PyTorch's 2. Then the time per kernel of one step and the
 *   share of one core's fp32 peak the step reaches.
 * - `cpu`: one step of the same fixture on the pure-JS `cpu` backend (batch
 *   `--cpu-batch`, default 8).
 * - `eval`: Market-1501-scale CMC + mAP + mINP (bench/eval_bench.ts).
 *
 * The last line is `ratio vs PyTorch (1 thread): X`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/runtime/backend.ts";
import { kernelBreakdown, trainStepFixture } from "./train_step.ts";
import { fp32PeakPerCore, trainStepFlops } from "./flops.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "5" },
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "64" },
    // The pure-JS backend takes many minutes for a batch of 64: time a smaller batch (img/s
    // hardly depends on the batch size there).
    "cpu-batch": { type: "string", default: "8" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const rounds = Number(values.rounds);
const steps = Number(values.steps);
const batch = Number(values.batch);
const cases = positionals.length > 0 ? positionals : ["train", "cpu", "eval"];
const known = ["train", "cpu", "eval"];
for (const c of cases) {
  if (!known.includes(c)) throw new Error(`unknown bench case "${c}"; known: ${known.join(", ")}`);
}

const here = new URL(".", import.meta.url).pathname;
const encoder = new TextEncoder();

/** Lines of a child's stdout, one at a time. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoderStream();
  let buffer = "";
  for await (const chunk of stream.pipeThrough(decoder)) {
    buffer += chunk;
    let cut: number;
    while ((cut = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut + 1);
    }
  }
  if (buffer) yield buffer;
}

/** The PyTorch peer: a long-lived process answering "steps N" with seconds. */
class TorchPeer {
  #child: Deno.ChildProcess;
  #out: AsyncGenerator<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  version = "";

  constructor(threads: number) {
    this.#child = new Deno.Command(values.python!, {
      args: [`${here}peer/small_resnet_torch.py`, String(threads), String(batch)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#out = lines(this.#child.stdout);
    this.#writer = this.#child.stdin.getWriter();
  }

  async ready(): Promise<void> {
    const { value, done } = await this.#out.next();
    if (done || !value.startsWith("ready")) {
      throw new Error(
        `PyTorch peer did not start (${value ?? "no output"}); install Debian's python3-torch`,
      );
    }
    this.version = value.split(" ")[2];
  }

  async time(n: number): Promise<number> {
    await this.#writer.write(encoder.encode(`steps ${n}\n`));
    const { value } = await this.#out.next();
    return Number(value);
  }

  async close(): Promise<void> {
    await this.#writer.write(encoder.encode("quit\n"));
    await this.#writer.close();
    await this.#child.status;
  }
}

interface WorkerResult {
  backend: string;
  seconds: number;
  steps: number;
  batch: number;
}

/** Runs `count` benchmark processes, starting their timed steps together. */
async function sideBySide(
  count: number,
  args: string[],
  env: Record<string, string> = {},
): Promise<WorkerResult[]> {
  const children = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${here}train_worker.ts`, "--wait-for-go", ...args],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const outputs = children.map((c) => lines(c.stdout));
  for (const out of outputs) {
    const { value } = await out.next();
    if (value !== "ready") throw new Error(`benchmark worker failed to start: ${value}`);
  }
  for (const child of children) {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode("go\n"));
    await writer.close();
  }
  const results: WorkerResult[] = [];
  for (const [i, out] of outputs.entries()) {
    const { value } = await out.next();
    results.push(JSON.parse(value!));
    await children[i].status;
  }
  return results;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 1).padStart(7);
const printed: string[] = [];
const say = (line: string) => {
  printed.push(line);
  console.log(line);
};

let finalRatio: string | null = null;

if (cases.includes("train")) {
  const info = await initBackend({ backend: "wasm" });
  const kernels = info.kernels!;
  say(
    `train step: small BN ResNet 64×32, batch ${batch}, forward + backward + Adam; ` +
      `median of ${rounds} alternating rounds × ${steps} steps; kernels: ${kernels.path} ` +
      `(${kernels.detail})`,
  );
  const fixture = trainStepFixture(batch);
  await fixture.run(1);
  const peer1 = new TorchPeer(1);
  await peer1.ready();
  const peer2 = new TorchPeer(2);
  await peer2.ready();
  const series = { wasm1: [], wasm2t: [], wasm2p: [], torch1: [], torch2: [] } as Record<
    string,
    number[]
  >;
  const images = batch * steps;
  const stepArgs = ["--steps", String(steps), "--batch", String(batch)];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await fixture.run(steps);
    series.wasm1.push(images / ((performance.now() - start) / 1000));
    series.torch1.push(images / await peer1.time(steps));
    const [twoThreads] = await sideBySide(1, stepArgs, { REID_THREADS: "2" });
    series.wasm2t.push((twoThreads.steps * twoThreads.batch) / twoThreads.seconds);
    series.torch2.push(images / await peer2.time(steps));
    const pair = await sideBySide(2, stepArgs, { REID_THREADS: "1" });
    series.wasm2p.push(pair.reduce((sum, p) => sum + (p.steps * p.batch) / p.seconds, 0));
    console.error(`  round ${r + 1}/${rounds} done`);
  }
  await peer1.close();
  await peer2.close();
  const m = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, median(v)]));
  say(`  tfjs wasm + ${kernels.path}, 1 thread               ${fmt(m.wasm1)} img/s`);
  say(`  tfjs wasm + ${kernels.path}, 2 threads (1 process)  ${fmt(m.wasm2t)} img/s`);
  say(`  tfjs wasm + ${kernels.path}, 2 processes × 1 thread ${fmt(m.wasm2p)} img/s (sum)`);
  say(`  PyTorch ${peer1.version} CPU, 1 thread                 ${fmt(m.torch1)} img/s`);
  say(`  PyTorch ${peer2.version} CPU, 2 threads                ${fmt(m.torch2)} img/s`);
  say(
    `ratio vs PyTorch 2 threads: 2 threads ${(m.wasm2t / m.torch2).toFixed(2)}, ` +
      `2 processes ${(m.wasm2p / m.torch2).toFixed(2)}`,
  );
  for (const line of await kernelBreakdown(fixture, batch)) say(line);
  fixture.dispose();
  const flops = trainStepFlops(batch);
  const peak = fp32PeakPerCore();
  const achieved = (flops * m.wasm1) / batch;
  say(
    `  convolution arithmetic ${(flops / 1e9).toFixed(2)} GFLOP per step → ` +
      `${(achieved / 1e9).toFixed(1)} GFLOP/s on 1 thread = ` +
      `${(100 * achieved / peak.flops).toFixed(0)}% of one core's fp32 peak (${peak.how})`,
  );
  finalRatio = `ratio vs PyTorch (1 thread): ${(m.wasm1 / m.torch1).toFixed(2)}`;
}

if (cases.includes("cpu")) {
  // The pure-JS backend is ~100× slower: one step, in its own process.
  const [result] = await sideBySide(1, [
    "--backend",
    "cpu",
    "--steps",
    "1",
    "--warmup",
    "0",
    "--batch",
    values["cpu-batch"]!,
  ]);
  say(
    `  tfjs cpu backend (pure JS), 1 step           ${fmt(result.batch / result.seconds)} img/s ` +
      `(${result.seconds.toFixed(1)} s for a batch of ${result.batch})`,
  );
}

if (cases.includes("eval")) {
  const { benchEval } = await import("./eval_bench.ts");
  for (const line of await benchEval()) say(line);
}

if (finalRatio) say(finalRatio);
