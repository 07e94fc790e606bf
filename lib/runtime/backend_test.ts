import assert from "node:assert/strict";
import { backendFromArgs } from "./backend.ts";

Deno.test("--backend is read in both spellings; auto means no preference", () => {
  assert.equal(backendFromArgs(["--backend", "cpu"]), "cpu");
  assert.equal(backendFromArgs(["x", "--backend=wasm"]), "wasm");
  assert.equal(backendFromArgs(["--backend=auto"]), undefined);
  assert.equal(backendFromArgs([]), undefined);
  assert.throws(() => backendFromArgs(["--backend", "gpu"]), /unknown backend "gpu"/);
});

/** Starts a process that initialises the backend and prints what it chose. */
async function choose(env: Record<string, string>, args: string[] = []) {
  const script = new URL("./backend.ts", import.meta.url).href;
  const code = `const { initBackend } = await import(${JSON.stringify(script)});
    const info = await initBackend({ args: Deno.args });
    console.log(JSON.stringify(info));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code, ...args],
    // Unset unless given, whatever the test runner's own environment says.
    env: { REID_BACKEND: "", REID_WASM_THREADS: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  return {
    ok: out.success,
    info: out.success ? JSON.parse(new TextDecoder().decode(out.stdout)) : null,
    stderr,
  };
}

Deno.test("the environment variable forces a backend, the flag wins over it, and the choice is said once", async () => {
  const byEnv = await choose({ REID_BACKEND: "cpu" });
  assert.ok(byEnv.ok, byEnv.stderr);
  assert.equal(byEnv.info.name, "cpu");
  assert.equal(byEnv.info.reason, "requested by REID_BACKEND");
  assert.equal(byEnv.stderr.match(/\[reid\] backend: cpu/g)?.length, 1);

  const byFlag = await choose({ REID_BACKEND: "cpu" }, ["--backend", "wasm"]);
  assert.ok(byFlag.ok, byFlag.stderr);
  assert.equal(byFlag.info.name, "wasm");
  assert.equal(byFlag.info.reason, "requested by --backend");
  assert.equal(byFlag.info.simd, true);

  const auto = await choose({ REID_BACKEND: "" });
  assert.equal(auto.info.name, "wasm", "no native bindings here: wasm is chosen");
  assert.match(auto.info.skipped.join("\n"), /tfjs-node-gpu: not available/);

  const bad = await choose({ REID_BACKEND: "gpu" });
  assert.equal(bad.ok, false);
  assert.match(bad.stderr, /REID_BACKEND: unknown backend "gpu"/);
  const badThreads = await choose({ REID_WASM_THREADS: "many" });
  assert.equal(badThreads.ok, false);
  assert.match(badThreads.stderr, /REID_WASM_THREADS: expected an integer from 1 to 8/);
});
