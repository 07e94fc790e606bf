import assert from "node:assert/strict";
import { backendFromArgs, describeAdapter } from "./backend.ts";

Deno.test("--backend is read in both spellings; auto means no preference", () => {
  assert.equal(backendFromArgs(["--backend", "cpu"]), "cpu");
  assert.equal(backendFromArgs(["x", "--backend=wasm"]), "wasm");
  assert.equal(backendFromArgs(["--backend", "webgpu"]), "webgpu");
  assert.equal(backendFromArgs(["--backend=auto"]), undefined);
  assert.equal(backendFromArgs([]), undefined);
  assert.throws(() => backendFromArgs(["--backend", "gpu"]), /unknown backend "gpu"/);
});

const runtimeDir = Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";

/** Starts a process that initialises the backend and prints what it chose. */
async function choose(env: Record<string, string>, args: string[] = []) {
  const script = new URL("./backend.ts", import.meta.url).href;
  const code = `const { initBackend } = await import(${JSON.stringify(script)});
    const info = await initBackend({ args: Deno.args });
    console.log(JSON.stringify(info));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code, ...args],
    // Unset unless given, whatever the test runner's own environment says. XDG_RUNTIME_DIR
    // only silences libwayland (loaded by Mesa's Vulkan driver) when WebGPU is probed.
    env: { REID_BACKEND: "", REID_WASM_THREADS: "", XDG_RUNTIME_DIR: runtimeDir, ...env },
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
  assert.match(auto.info.skipped.join("\n"), /tfjs-node-gpu: not available/);
  // Auto takes webgpu only on a hardware adapter; a software one is not enough.
  const gpu = await choose({ REID_BACKEND: "webgpu" });
  if (gpu.ok && !gpu.info.adapter.software) {
    assert.equal(auto.info.name, "webgpu", `a GPU adapter was found: ${gpu.stderr}`);
  } else {
    assert.equal(auto.info.name, "wasm", "no native bindings and no GPU adapter: wasm");
    assert.match(auto.info.skipped.join("\n"), /webgpu: /);
  }

  const bad = await choose({ REID_BACKEND: "gpu" });
  assert.equal(bad.ok, false);
  assert.match(bad.stderr, /REID_BACKEND: unknown backend "gpu"/);
  const badThreads = await choose({ REID_WASM_THREADS: "many" });
  assert.equal(badThreads.ok, false);
  assert.match(badThreads.stderr, /REID_WASM_THREADS: expected an integer from 1 to 8/);
});

Deno.test("REID_BACKEND=webgpu starts webgpu and names its adapter in the start-up line", async () => {
  const byEnv = await choose({ REID_BACKEND: "webgpu" });
  // Fails (not skipped) without an adapter: CI installs Mesa's software Vulkan driver.
  assert.ok(byEnv.ok, byEnv.stderr);
  assert.equal(byEnv.info.name, "webgpu");
  assert.equal(byEnv.info.reason, "requested by REID_BACKEND");
  const adapter = byEnv.info.adapter;
  assert.ok(adapter && adapter.description, "the adapter is described");
  const line = byEnv.stderr.match(/\[reid\] backend: webgpu \((.*)\) — requested by REID_BACKEND/);
  assert.ok(line, byEnv.stderr);
  assert.equal(line[1], describeAdapter(adapter));
});

Deno.test("describeAdapter names vendors and marks software adapters", () => {
  const lavapipe = {
    vendor: "65541",
    architecture: "",
    device: "0",
    description: "llvmpipe (LLVM 15.0.6, 256 bits)",
    software: true,
  };
  assert.equal(
    describeAdapter(lavapipe),
    "llvmpipe (LLVM 15.0.6, 256 bits), vendor Mesa (0x10005), software: slower than wasm on a CPU",
  );
  assert.equal(
    describeAdapter({
      ...lavapipe,
      vendor: "4318",
      architecture: "ampere",
      description: "RTX",
      software: false,
    }),
    "RTX, vendor NVIDIA (0x10de), architecture ampere",
  );
  assert.equal(
    describeAdapter({ ...lavapipe, vendor: "apple", software: false }).includes("vendor apple"),
    true,
  );
});
