import assert from "node:assert/strict";
import { initBackend } from "../../runtime/backend.ts";
import { plainConvNet } from "./plain.ts";
import { smallResNetStages } from "./small_resnet.ts";
import { BACKBONE_NAMES, buildBackbone, isBackboneName } from "./registry.ts";

await initBackend({ announce: false });

Deno.test("backbone registry: the five backbones by name", () => {
  assert.deepEqual([...BACKBONE_NAMES].sort(), [
    "mobilenet_v1",
    "plain",
    "resnet50",
    "small_resnet",
    "two_stream",
  ]);
  assert.ok(isBackboneName("plain"));
  assert.ok(!isBackboneName("resnet18"));
  assert.throws(
    () => (buildBackbone as (name: string) => unknown)("resnet18"),
    /unknown backbone "resnet18"/,
  );
});

Deno.test("backbone registry: a built backbone equals the direct builder's (names, shapes)", () => {
  const options = { inputShape: [16, 8, 3] as [number, number, number], widths: [4, 8], seed: 3 };
  const byName = buildBackbone("plain", options);
  const direct = plainConvNet(options);
  assert.deepEqual(byName.layers.map((l) => l.name), direct.layers.map((l) => l.name));
  assert.equal(byName.name, "gen");
  assert.deepEqual(byName.outputs[0].shape, [null, 8]);
  byName.dispose();
  direct.dispose();
  const two = buildBackbone(
    "two_stream",
    smallResNetStages({ inputShape: [8, 4, 3], widths: [2, 4] }),
    { sharedFrom: 1, seed: 1, name: "ts" },
  );
  assert.ok(two.layers.length > 0);
  two.dispose();
});
