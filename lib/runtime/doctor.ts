/**
 * `deno task doctor`: what this machine has for reid-notebooks, and what to
 * install where something is missing.
 *
 * Prints Deno, tfjs and backend versions, SIMD/threads, the gradient-kernel
 * self-check (each wasm kernel against the cpu backend on a small case), and
 * whether Jupyter and the Deno kernelspec are available. Exits non-zero when
 * something the tests need is missing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { backendFromArgs, initBackend } from "./backend.ts";
import { Rng } from "./random.ts";
import { repoPath } from "./paths.ts";
import { relativeError, valuesOn } from "./testing.ts";
import { kernelPathInfo } from "./fast_kernels.ts";
import { fusedBatchNormAvailable, fusedBatchNormTraining } from "./fused_bn.ts";

/** The Deno version README, `.ci/run` and this check agree on. */
export const PINNED_DENO = "2.9.6";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok. */
  fix?: string;
  /** Needed by `deno task test` (else only for some tasks). */
  required: boolean;
}

async function commandOutput(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
  } catch {
    return null;
  }
}

/** Small cases for each kernel the library registers for wasm, against cpu. */
async function kernelSelfCheck(): Promise<{ name: string; error: number }[]> {
  const rng = new Rng(1);
  const t = (shape: number[]) =>
    tf.tensor4d(
      rng.normalArray(shape.reduce((a, b) => a * b, 1)),
      shape as [number, number, number, number],
    );
  const x = t([2, 7, 6, 3]);
  const w = t([3, 3, 3, 4]);
  const dy = t([2, 4, 3, 4]); // stride 2, "same"
  const dw = t([3, 3, 3, 2]);
  const ddy = t([2, 4, 3, 6]);
  const ids = tf.tensor1d([0, 2, 2, -1, 1], "int32");
  const rows = t([5, 3, 1, 1]);
  const cases: [string, () => tf.Tensor][] = [
    ["Conv2DBackpropFilter", () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 2,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [3, 3, 3, 4],
      }) as tf.Tensor],
    ["Conv2DBackpropInput", () =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: w }, {
        strides: 2,
        pad: "same",
        dataFormat: "NHWC",
        inputShape: [2, 7, 6, 3],
      }) as tf.Tensor],
    [
      "DepthwiseConv2dNativeBackpropFilter",
      () =>
        tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x, dy: ddy }, {
          strides: 2,
          dilations: 1,
          pad: "same",
          filterShape: [3, 3, 3, 2],
        }) as tf.Tensor,
    ],
    [
      "DepthwiseConv2dNativeBackpropInput",
      () =>
        tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy: ddy, filter: dw }, {
          strides: 2,
          dilations: 1,
          pad: "same",
          inputShape: [2, 7, 6, 3],
        }) as tf.Tensor,
    ],
    ["Conv2D", () => tf.conv2d(x, w, 2, "same")],
    // The fused kernel where a native path has it, tfjs's composition elsewhere (and on cpu).
    ["training batch norm", () => {
      const scale = tf.linspace(0.5, 2, 3);
      const offset = tf.linspace(-1, 1, 3);
      const y = fusedBatchNormAvailable()
        ? fusedBatchNormTraining(x, scale as tf.Tensor1D, offset as tf.Tensor1D, 1e-5)
        : {
          y: tf.tidy(() => {
            const { mean, variance } = tf.moments(x, [0, 1, 2]);
            return tf.batchNorm(x, mean, variance, offset, scale, 1e-5);
          }),
          mean: null,
          variance: null,
        };
      tf.dispose([scale, offset, y.mean, y.variance].filter((t) => t !== null) as tf.Tensor[]);
      return y.y;
    }],
    ["UnsortedSegmentSum", () => tf.unsortedSegmentSum(rows, ids, 3)],
    // Raw inputs (negative windows included): where wasm's own max-pool gradient went wrong.
    ["MaxPoolGrad", () => {
      const y = tf.maxPool(x, 2, 2, "valid");
      const g = tf.onesLike(y);
      const out = tf.engine().runKernel("MaxPoolGrad", { dy: g, input: x, output: y }, {
        filterSize: 2,
        strides: 2,
        pad: "valid",
      }) as tf.Tensor;
      tf.dispose([y, g]);
      return out;
    }],
  ];
  const results = [];
  for (const [name, run] of cases) {
    const error = relativeError(await valuesOn("wasm", run), await valuesOn("cpu", run));
    results.push({ name, error });
  }
  tf.dispose([x, w, dy, dw, ddy, ids, rows]);
  return results;
}

/** Runs every check and prints the report; returns false when a required check fails. */
export async function doctor(args: readonly string[] = []): Promise<boolean> {
  const checks: Check[] = [];
  const deno = Deno.version.deno;
  checks.push({
    name: "Deno",
    ok: deno === PINNED_DENO,
    detail:
      `${deno} (pinned ${PINNED_DENO}), V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}`,
    fix: `npm install -g deno@${PINNED_DENO}`,
    required: true,
  });
  const info = await initBackend({ args, announce: false });
  checks.push({
    name: "tfjs",
    ok: true,
    detail: `@tensorflow/tfjs ${tf.version.tfjs}, core ${tf.version["tfjs-core"]}`,
    required: true,
  });
  checks.push({
    name: "backend",
    ok: info.name !== "cpu" || backendFromArgs(args) === "cpu",
    detail: `${info.name} — ${info.reason}` +
      (info.skipped.length ? `\n      tried: ${info.skipped.join("\n             ")}` : ""),
    fix: "run `deno install` so that node_modules/@tensorflow/tfjs-backend-wasm exists",
    required: false,
  });
  const wasmReady = info.name === "wasm" ||
    (await tf.setBackend("wasm").catch(() => false) && (await tf.setBackend(info.name), true));
  checks.push({
    name: "wasm SIMD / threads",
    ok: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    detail: `SIMD ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "yes" : "no"}, threads ${
      tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "yes" : "no"
    } (single-threaded under Deno: the grid runner uses two processes instead)`,
    required: false,
  });
  if (wasmReady) {
    const path = kernelPathInfo();
    checks.push({
      name: "native kernels (wasm)",
      ok: path?.path === "onednn",
      detail: path
        ? `${path.path} (${path.detail}) — ${path.reason}` +
          (path.skipped.length
            ? `\n      not taken: ${path.skipped.join("\n                 ")}`
            : "")
        : "not chosen (wasm started elsewhere)",
      fix: "apt-get install gcc libdnnl-dev clang lld, then `deno task setup` " +
        "(lib/runtime/native/README.md; without them training runs 2–5× slower)",
      required: false,
    });
    const kernels = await kernelSelfCheck();
    const worst = Math.max(...kernels.map((k) => k.error));
    checks.push({
      name: `wasm kernels on the ${kernelPathInfo()?.path ?? "composed"} path`,
      ok: worst < 1e-4,
      detail: kernels.map((k) => `${k.name} ${k.error.toExponential(1)}`).join(", ") +
        " (relative error vs cpu)",
      fix: "a kernel disagrees with the cpu backend: run `deno test lib/runtime` and report it",
      required: true,
    });
  }
  const jupyter = await commandOutput("jupyter", ["--version"]);
  const nbconvert = await commandOutput("jupyter", ["nbconvert", "--version"]);
  checks.push({
    name: "Jupyter (nbconvert, nbclient)",
    ok: jupyter !== null && nbconvert !== null,
    detail: nbconvert ? `nbconvert ${nbconvert}` : "not found",
    fix: "apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel",
    required: true,
  });
  const kernelspecs = await commandOutput("jupyter", ["kernelspec", "list"]);
  const localSpec = await Deno.stat(
    repoPath(".jupyter/kernels/deno/kernel.json"),
  )
    .then(() => true, () => false);
  checks.push({
    name: "Deno kernelspec",
    ok: localSpec || (kernelspecs?.includes("deno") ?? false),
    detail: localSpec
      ? "project-local .jupyter/kernels/deno (used by the notebook tests)"
      : kernelspecs?.includes("deno")
      ? "installed for this user"
      : "not installed yet",
    fix: "the notebook tests write a project-local one; for JupyterLab: deno jupyter --install",
    required: false,
  });
  const numpy = await commandOutput("/usr/bin/python3", [
    "-c",
    "import numpy; print(numpy.__version__)",
  ]);
  checks.push({
    name: "NumPy (reference metrics in tests)",
    ok: numpy !== null,
    detail: numpy ?? "not found",
    fix: "apt-get install python3-numpy",
    required: true,
  });
  const torch = await commandOutput("/usr/bin/python3", [
    "-c",
    "import torch; print(torch.__version__)",
  ]);
  checks.push({
    name: "PyTorch (benchmark peer)",
    ok: torch !== null,
    detail: torch ?? "not found",
    fix: "apt-get install python3-torch",
    required: false,
  });

  for (const c of checks) {
    const mark = c.ok ? "ok  " : c.required ? "FAIL" : "warn";
    console.log(`${mark} ${c.name}: ${c.detail}`);
    if (!c.ok && c.fix) console.log(`      → ${c.fix}`);
  }
  const failed = checks.filter((c) => c.required && !c.ok);
  console.log(
    failed.length ? `${failed.length} required check(s) failed` : "all required checks passed",
  );
  return failed.length === 0;
}

if (import.meta.main) {
  const ok = await doctor(Deno.args);
  Deno.exit(ok ? 0 : 1);
}
