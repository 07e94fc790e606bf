/**
 * Starts the multi-threaded SIMD build of `@tensorflow/tfjs-backend-wasm` 4.22
 * under Deno, which the package does not do by itself.
 *
 * What stops it, all in `dist/tf-backend-wasm.node.js` (the entry Deno loads):
 *
 * 1. The flag `WASM_HAS_MULTITHREAD_SUPPORT` returns false whenever `IS_NODE`
 *    holds (tfjs issue #3830), and Deno 2 defines `process.versions.node`, so the
 *    single-threaded binary is chosen although Deno has everything threads need
 *    (shared `WebAssembly.Memory` and `WebAssembly.Module` cross
 *    `node:worker_threads` ports, and the flag's own SharedArrayBuffer and
 *    `WebAssembly.validate` probes pass).
 * 2. Once forced, the emscripten glue runs in its Node mode and calls
 *    `new (require("worker_threads").Worker)(url)` (`PThread.allocateUnusedWorker`)
 *    with the `blob:` URL that tfjs's `locateFile` makes of the pthread worker
 *    script; Deno's `node:worker_threads` accepts only file paths:
 *    `TypeError [ERR_WORKER_PATH]: The worker script or module filename must be
 *    an absolute path or a relative path starting with './' or '../'.`
 * 3. tfjs's worker script does `Object.assign(global, {location, ...})` in
 *    strict mode, and `location` is a getter in Deno's worker scope:
 *    `Cannot set property location of #<DedicatedWorkerGlobalScope> which has
 *    only a getter`.
 * 4. The worker gets the glue as a Blob of `wasmFactoryThreadedSimd.toString()`,
 *    loads it with `fs.readFileSync` of a `blob:` URL, and that source refers to
 *    the bundle's module variables (`require$$0`, `commonjsGlobal`, ...), which
 *    do not exist in a worker.
 * 5. backend.cc caps the XNNPACK pool at `emscripten_num_logical_cores() / 2`
 *    (it assumes two hyper-threads per core), read from `os.cpus().length` in
 *    Node mode: on a 2-core machine the threaded build runs 1 thread.
 * 6. A running pthread keeps a ref on its worker (`worker.ref()` in
 *    `runPthread`), so the XNNPACK pool keeps the process alive after the main
 *    script ends.
 *
 * Nothing in node_modules is changed. While `tf.setBackend("wasm")` runs, the
 * shim records the text of the Blobs tfjs builds and answers the worker Blob's
 * object URL with a `.cjs` file in a temporary folder (written once: rewriting
 * it while earlier workers read it made some run an empty script and hang
 * start-up): tfjs's own worker script between a prelude that makes `location`
 * writable and lines that define the bundle variables and point the glue's
 * object URL at a second file holding the glue. It reports `2 × count` cores to
 * the glue, and wraps `worker_threads.Worker` so that the pool's workers are
 * unref'd for good after start-up (they only compute while the main thread
 * waits on them). The hooks, the global `Worker` the glue replaced with the
 * Node one, and the files are removed once the backend is up: the glue waits
 * for its 8 pool workers to load before it resolves, and the XNNPACK pool is
 * created during start-up, so no worker starts later.
 *
 * @module
 */
import os from "node:os";
import workerThreads from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setThreadsCount } from "@tensorflow/tfjs-backend-wasm";

/** What {@link enableWasmThreads} achieved. */
export interface WasmThreadsResult {
  /** True when the wasm backend runs the threaded build with the threads asked for. */
  started: boolean;
  /** Threads XNNPACK uses (1 when not started or when the backend failed). */
  threads: number;
  /** Why threads are (not) running, for the start-up message. */
  reason: string;
}

/** Most threads the threaded build can run (its pool of pre-started workers). */
export const MAX_THREADS = 8;

/** Marks the Blob of the glue that tfjs sends to every worker. */
const GLUE_PREFIX = "var WasmBackendModuleThreadedSimd";

/**
 * Deno's worker scope has `location` as a getter, so the strict-mode
 * `Object.assign(global, {location, ...})` of tfjs's worker script would throw;
 * it becomes a plain writable property first.
 */
const WORKER_PRELUDE = `
;(() => {
  Object.defineProperty(globalThis, "location", {
    value: globalThis.location, writable: true, configurable: true, enumerable: true,
  });
})();
`;

/**
 * Module variables of the rollup bundle that the glue's source mentions; the
 * worker defines them as globals because it evaluates the glue at global scope.
 */
const WORKER_GLOBALS = `
;(() => {
  const g = globalThis;
  g.require$$0 = require("fs");
  g.require$$1 = require("path");
  g.require$$3 = require("perf_hooks");
  g.require$$4 = require("os");
  g.commonjsGlobal = g;
  // The worker turns the glue Blob into an object URL and importScripts it
  // with fs.readFileSync; answer with the file that holds the same text.
  URL.createObjectURL = () => GLUE_PATH;
  URL.revokeObjectURL = () => {};
})();
`;

let tempDir: string | null = null;

function removeTempDir(): void {
  if (tempDir === null) return;
  try {
    Deno.removeSync(tempDir, { recursive: true });
  } catch {
    // already gone, or the process is exiting: a few kB left in /tmp is harmless
  }
  tempDir = null;
}

/**
 * Installs the Blob / object-URL hooks described in the module comment and
 * returns the function that removes them.
 */
function installHooks(count: number): () => void {
  const originalCpus = os.cpus;
  // backend.cc caps the pool at emscripten_num_logical_cores() / 2 (it assumes
  // two hyper-threads per core), which the Node-mode glue reads from
  // os.cpus().length: on a 2-core machine that allows one thread.
  const cpus = originalCpus();
  os.cpus = () => Array.from({ length: 2 * count }, (_, i) => cpus[i % Math.max(1, cpus.length)]);
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const originalWorker = globalThis.Worker;
  const texts = new WeakMap<Blob, string>();
  let glue: string | null = null;
  let workerPath: string | null = null;

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts && parts.length > 0 && parts.every((part) => typeof part === "string")) {
        const text = (parts as string[]).join("");
        // The glue Blob is only posted to workers, never given an object URL
        // on this thread, so it is kept when made.
        if (text.startsWith(GLUE_PREFIX)) glue = text;
        else texts.set(this, text);
      }
    }
  }

  function folder(): string {
    if (tempDir === null) {
      tempDir = Deno.makeTempDirSync({ prefix: "reid-wasm-threads-" });
    }
    return tempDir;
  }

  // A running pthread holds a ref on its worker, so XNNPACK's idle pool would
  // keep the process alive after the main script ends; the workers only ever
  // compute for a main thread that is blocked waiting on them, so after
  // start-up they never hold the process open.
  const OriginalNodeWorker = workerThreads.Worker;
  const started: InstanceType<typeof OriginalNodeWorker>[] = [];
  let detached = false;
  class PoolWorker extends OriginalNodeWorker {
    constructor(...args: ConstructorParameters<typeof OriginalNodeWorker>) {
      super(...args);
      started.push(this);
    }
    override ref(): void {
      if (!detached) super.ref();
    }
  }
  workerThreads.Worker = PoolWorker;
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = (object: Blob): string => {
    const text = object instanceof OriginalBlob ? texts.get(object) : undefined;
    // tfjs makes the glue Blob before it locates the worker script.
    if (text === undefined || glue === null) return originalCreate(object);
    // Written once: the glue asks for the script once per worker, and
    // rewriting the file while earlier workers read it let some of them run
    // a truncated (empty) script and never answer, which hung start-up.
    if (workerPath === null) {
      const gluePath = `${folder()}/glue.js`;
      Deno.writeTextFileSync(gluePath, glue);
      workerPath = `${folder()}/pthread-worker.cjs`;
      Deno.writeTextFileSync(
        workerPath,
        WORKER_PRELUDE + text + WORKER_GLOBALS.replace("GLUE_PATH", JSON.stringify(gluePath)),
      );
    }
    return workerPath;
  };
  return () => {
    workerThreads.Worker = OriginalNodeWorker;
    detached = true;
    for (const worker of started) worker.unref();
    os.cpus = originalCpus;
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
    globalThis.Worker = originalWorker;
    // The glue waits for its whole pool of workers to load before it resolves,
    // so the files are read by now.
    removeTempDir();
  };
}

/**
 * Initialises the `wasm` backend with the threaded SIMD build and `count`
 * threads, 1 to {@link MAX_THREADS} (call it instead of `tf.setBackend("wasm")`,
 * after `setWasmPaths` and after registering any extra wasm kernels). A count
 * of 1 only serves to measure what the threaded build costs by itself.
 *
 * On failure the flag is set back to false and the thread count to 1, so a
 * following `tf.setBackend("wasm")` starts the single-threaded SIMD build.
 */
export async function enableWasmThreads(count: number): Promise<WasmThreadsResult> {
  // 8 is the glue's pre-started pool (and backend.cc's cap): more threads would
  // need workers started after the hooks are gone.
  if (!Number.isInteger(count) || count < 1 || count > MAX_THREADS) {
    throw new Error(
      `enableWasmThreads: count must be an integer from 1 to ${MAX_THREADS}, got ${count}`,
    );
  }
  if (!(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))) {
    return { started: false, threads: 1, reason: "no wasm SIMD (the threaded build needs it)" };
  }
  const fail = (reason: string): WasmThreadsResult => {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setThreadsCount(1);
    return { started: false, threads: 1, reason };
  };
  // The flag only gates on IS_NODE; check the features it would check.
  try {
    new MessageChannel().port1.postMessage(new SharedArrayBuffer(1));
  } catch (error) {
    return fail(`SharedArrayBuffer cannot be posted: ${error}`);
  }
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(count);
  const restore = installHooks(count);
  // tfjs logs the failure itself; keep the reason for the caller.
  const errors: string[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    errors.push(args.map(String).join(" ").split("\n")[0]);
    originalWarn(...args);
  };
  let ok = false;
  try {
    ok = await tf.setBackend("wasm");
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
  } finally {
    console.warn = originalWarn;
    restore();
  }
  if (!ok) return fail(`threaded wasm did not start: ${errors.join("; ") || "unknown reason"}`);
  const threads = getThreadsCount();
  if (threads !== count) {
    return {
      started: false,
      threads,
      reason: `threaded build started with ${threads} thread(s) instead of ${count}`,
    };
  }
  return { started: true, threads, reason: `threaded SIMD build, ${threads} threads` };
}
