import assert from "node:assert/strict";
import { LossHistory, smooth } from "./history.ts";

Deno.test("history records named series and round-trips through JSON", () => {
  const h = new LossHistory();
  const seen: number[] = [];
  const stop = h.onRecord((step) => seen.push(step));
  h.record(0, { loss: 2, d: 0.7 });
  h.record(1, { loss: 1.5, d: undefined });
  h.record(2, { loss: NaN, g: 3 });
  stop();
  h.record(3, { loss: 1 });
  assert.deepEqual(seen, [0, 1, 2]);
  assert.deepEqual(h.names(), ["loss", "d", "g"]);
  assert.deepEqual(h.series("loss").steps, [0, 1, 2, 3]);
  assert.deepEqual(h.series("d"), { steps: [0], values: [0.7] });
  assert.equal(h.last("loss"), 1);
  const text = JSON.stringify(h);
  assert.ok(text.includes("null"), "NaN should serialise as null");
  const back = LossHistory.fromJSON(JSON.parse(text));
  assert.deepEqual(back.series("d"), h.series("d"));
  assert.ok(Number.isNaN(back.series("loss").values[2]));
  assert.throws(() => h.record(1, { loss: 0 }), /went back from step 3 to 1/);
  assert.throws(
    () => LossHistory.fromJSON({ series: { x: { steps: [1], values: [] } } }, "r.json"),
    /r.json: series "x"/,
  );
});

Deno.test("smoothing is a debiased EMA and thinning averages bins", () => {
  assert.deepEqual(smooth([5, 5, 5], 0.9).map((v) => +v.toFixed(12)), [5, 5, 5]);
  const s = smooth([0, 10], 0.5); // m1 = 0 → 0; m2 = 5 / 0.75
  assert.equal(s[0], 0);
  assert.ok(Math.abs(s[1] - 5 / 0.75) < 1e-12);
  const h = new LossHistory();
  for (let i = 0; i < 10; i++) h.record(i, { loss: i });
  const t = h.thinned(3); // bins of 4: [0..3], [4..7], [8, 9]
  assert.deepEqual(t.series("loss"), { steps: [3, 7, 9], values: [1.5, 5.5, 8.5] });
  assert.equal(h.recentMean("loss", 2), 8.5);
  assert.equal(h.smoothed("loss", 0).values[4], 4);
});
