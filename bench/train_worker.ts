/**
 * One benchmark process: builds the training-step fixture, warms up, times
 * `--steps` steps and prints one JSON line. The benchmark runs two of these at
 * once to measure what both cores give with single-threaded wasm.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { initBackend } from "../lib/runtime/backend.ts";
import { trainStepFixture } from "./train_step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "64" },
    warmup: { type: "string", default: "1" },
    backend: { type: "string" },
    "wait-for-go": { type: "boolean", default: false },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);
const info = await initBackend({ args: Deno.args, announce: false });
const fixture = trainStepFixture(batch);
await fixture.run(Number(values.warmup));
if (values["wait-for-go"]) {
  // Side-by-side runs start their timed steps together, once every process has warmed up.
  console.log("ready");
  const reader = Deno.stdin.readable.getReader();
  await reader.read();
  reader.releaseLock();
}
const start = performance.now();
const loss = await fixture.run(steps);
const seconds = (performance.now() - start) / 1000;
fixture.dispose();
console.log(
  JSON.stringify({ backend: info.name, kernels: info.kernels?.path, steps, batch, seconds, loss }),
);
