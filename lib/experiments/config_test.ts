import assert from "node:assert/strict";
import { canonicalJson, deepMerge, resolveConfig, sha256Hex } from "./config.ts";
import { spec as toy } from "./testdata/toy_spec.ts";

Deno.test("deepMerge switches a null section on with a whole object, and off with null", () => {
  const base = { pretrain: null as null | { steps: number }, model: { depth: 2 } };
  assert.deepEqual(deepMerge(base, { pretrain: { steps: 4 } }), {
    pretrain: { steps: 4 },
    model: { depth: 2 },
  });
  assert.deepEqual(deepMerge(base, { model: null as never }), { pretrain: null, model: null });
});

Deno.test("deepMerge merges objects, replaces arrays, rejects unknown keys", () => {
  const base = { a: 1, opt: { lr: 0.1, betas: [0.9, 0.999] }, flags: { x: true, y: false } };
  const merged = deepMerge(base, { opt: { betas: [0.5, 0.999] }, flags: { y: true } });
  assert.deepEqual(merged, {
    a: 1,
    opt: { lr: 0.1, betas: [0.5, 0.999] },
    flags: { x: true, y: true },
  });
  assert.deepEqual(base.opt.betas, [0.9, 0.999], "the base must not change");
  assert.throws(
    () => deepMerge(base, { opt: { lR: 1 } } as never, "row X"),
    /row X: unknown key "opt.lR"/,
  );
  assert.throws(() => deepMerge(base, { opt: 3 } as never), /replaces an object/);
  assert.deepEqual(deepMerge(base, undefined), base);
});

Deno.test("canonical JSON ignores key order and rejects non-JSON numbers", async () => {
  const a = canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: "x" } });
  const b = canonicalJson({ a: { c: "x", d: [1, { y: 2, z: 1 }] }, b: 1 });
  assert.equal(a, b);
  assert.equal(a, '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  assert.throws(() => canonicalJson({ a: { b: NaN } }), /a\.b is NaN/);
  // The standard test vector of SHA-256.
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("resolved config hashes are stable and change with the config, quick mode and version", async () => {
  const narrow = await resolveConfig(toy, "cpu", "narrow");
  assert.deepEqual(narrow.config.model, { hidden: 2 });
  assert.equal((await resolveConfig(toy, "cpu", "narrow")).hash, narrow.hash);
  assert.match(narrow.hash, /^[0-9a-f]{64}$/);
  const wide = await resolveConfig(toy, "cpu", "wide");
  assert.equal(wide.config.model.hidden, 16);
  assert.notEqual(wide.hash, narrow.hash);
  const quick = await resolveConfig(toy, "cpu", "narrow", { quick: true });
  assert.equal(quick.config.train.steps, 5);
  assert.notEqual(quick.hash, narrow.hash);
  const bumped = await resolveConfig({ ...toy, version: "2" }, "cpu", "narrow");
  assert.notEqual(bumped.hash, narrow.hash);
  assert.notEqual((await resolveConfig(toy, "paper", "narrow")).hash, narrow.hash);
  await assert.rejects(resolveConfig(toy, "cpu", "nope"), /no row "nope"; rows: narrow, wide/);
});
