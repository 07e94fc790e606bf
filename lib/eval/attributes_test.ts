import assert from "node:assert/strict";
import { attributeMetrics } from "./attributes.ts";

const near = (a: number, b: number, label: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${label}: got ${a}, expected ${b}`);

Deno.test("attributeMetrics: label- and instance-based metrics by hand", () => {
  // 4 samples × 3 attributes. Scores are probabilities; threshold 0.5.
  const labels = [
    1,
    0,
    1,
    0,
    0,
    1,
    1,
    1,
    0,
    0,
    0,
    0,
  ];
  const scores = [
    0.9,
    0.6,
    0.2, // predicted {0, 1}; true {0, 2}
    0.1,
    0.4,
    0.7, // predicted {2};    true {2}
    0.5,
    0.1,
    0.3, // predicted {0};    true {0, 1}  (0.5 counts as positive)
    0.2,
    0.2,
    0.2, // predicted {};     true {}
  ];
  const m = attributeMetrics(scores, labels, 3, { names: ["male", "hat", "bag"] });
  // attr0: P=2 (both found) N=2 (both rejected): TPR 1, TNR 1.
  // attr1: P=1 (missed), N=3 (sample 0 false positive): TPR 0, TNR 2/3.
  // attr2: P=2 (sample 0 missed), N=2 (both rejected): TPR 1/2, TNR 1.
  assert.equal(m.perAttribute[1].name, "hat");
  near(m.perAttribute[0].balancedAccuracy, 1, "attr0");
  near(m.perAttribute[1].tnr, 2 / 3, "attr1 TNR");
  near(m.perAttribute[1].accuracy, 2 / 4, "attr1 accuracy");
  near(m.perAttribute[2].tpr, 0.5, "attr2 TPR");
  near(m.mA, (1 + (0 + 2 / 3) / 2 + (0.5 + 1) / 2) / 3, "mA");
  // Instance-based: sample terms (acc, prec, rec) = (1/3, 1/2, 1/2), (1, 1, 1), (1/2, 1, 1/2),
  // and (0, 0, 0) for the empty sample (empty denominators count as 0).
  near(m.accuracy, (1 / 3 + 1 + 1 / 2 + 0) / 4, "instance accuracy");
  near(m.precision, (1 / 2 + 1 + 1 + 0) / 4, "precision");
  near(m.recall, (1 / 2 + 1 + 1 / 2 + 0) / 4, "recall");
  near(m.f1, (2 * m.precision * m.recall) / (m.precision + m.recall), "F1");
  assert.equal(m.numSamples, 4);
});

Deno.test("attributeMetrics: unlabelled entries are ignored; threshold applies to scores", () => {
  const labels = [1, -1, 0, 1];
  const m = attributeMetrics([2, -5, -1, 0.5], labels, 2, { threshold: 0 });
  // attr0: sample 0 positive found, sample 1 negative rejected; attr1: only sample 1 labelled.
  near(m.perAttribute[0].balancedAccuracy, 1, "attr0");
  assert.equal(m.perAttribute[1].positives + m.perAttribute[1].negatives, 1);
  near(m.perAttribute[1].tpr, 1, "attr1 TPR");
  near(m.perAttribute[1].tnr, 0, "attr1 has no negatives");
  assert.throws(() => attributeMetrics([1, 2, 3], [1, 0, 1], 2), /matching rows of 2/);
  assert.throws(() => attributeMetrics([1, 2], [1, 2], 2), /label \[0\]\[1\] is 2/);
});
