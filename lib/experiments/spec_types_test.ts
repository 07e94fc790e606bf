/**
 * Compile-time checks of {@link definePaperSpec}: `deno check` (part of `deno task test`) fails
 * when a `@ts-expect-error` below stops being an error, i.e. when a misspelt row or metric in
 * a claim or a row's paper numbers would compile again.
 */
import assert from "node:assert/strict";
import { gt } from "./claims.ts";
import { definePaperSpec } from "./spec.ts";

const base = { lr: 0.1 };

Deno.test("definePaperSpec infers the row ids and metric names as literal types", () => {
  const spec = definePaperSpec({
    paper: "toy",
    title: "toy",
    base: { cpu: base, paper: base },
    metrics: ["mAP", "R1"],
    rows: [
      { id: "embed", label: "Embed", delta: {}, paper: { mAP: 10 } },
      // @ts-expect-error: "mAp" is not one of the spec's metrics
      { id: "sal", label: "SAL", delta: {}, paper: { mAp: 12 } },
    ],
    claims: [
      { id: "C1", text: "SAL > Embed", parts: [gt("sal", "embed", "mAP")] },
      // @ts-expect-error: "sall" is not a row
      { id: "C2", text: "typo in a row", parts: [gt("sall", "embed", "mAP")] },
      {
        id: "C3",
        text: "typo in a metric",
        // @ts-expect-error: "R5" is not a declared metric
        parts: [{ label: "x", value: (m) => m("sal", "R5") }],
      },
    ],
    runCell: () => Promise.resolve({ mAP: 1, R1: 1 }),
  });
  assert.deepEqual(spec.rows.map((r) => r.id), ["embed", "sal"]);
  assert.equal(spec.claims.length, 3);
});
