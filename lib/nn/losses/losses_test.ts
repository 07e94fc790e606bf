/**
 * Every loss against a value worked out here with plain JavaScript arithmetic,
 * plus gradient checks (autodiff vs. the formula or finite differences).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../runtime/backend.ts";
import { Rng } from "../../runtime/random.ts";
import { stopGradient } from "../ops.ts";
import {
  attributeBce,
  batchHardTriplet,
  CenterLoss,
  confusionLoss,
  coralLoss,
  crossEntropy,
  crossModalTriplet,
  ganBceLoss,
  gaussianMmd,
  heteroCenterTriplet,
  l1Loss,
  linearMmd,
  lsganLoss,
  marginMmdId,
  mseLoss,
  positiveRatioWeights,
  salGanLoss,
} from "./mod.ts";

await initBackend({ announce: false });

const close = (actual: number, expected: number, tol = 1e-5, what = "value") =>
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );

/** Runs `f`, reads its scalar and checks nothing leaked. */
async function value(f: () => tf.Scalar): Promise<number> {
  const before = tf.memory().numTensors;
  const out = tf.tidy(f);
  const v = (await out.data())[0];
  out.dispose();
  assert.equal(tf.memory().numTensors, before, "the loss leaked tensors");
  return v;
}

const t2 = (rows: number[][]) => tf.tensor2d(rows);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.log1p(Math.exp(x));
const logSoftmax = (row: number[]) => {
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  return row.map((v) => v - lse);
};
const sqDist = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
const dist = (a: number[], b: number[]) => Math.sqrt(sqDist(a, b));
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const relu = (x: number) => Math.max(0, x);

Deno.test("crossEntropy: plain and label-smoothed (ε = 0.1) against hand values", async () => {
  const logits = [[1, 2, 3], [0.5, 0.5, -1]];
  const labels = [2, 0];
  const expected = (eps: number) =>
    mean(logits.map((row, i) => {
      const lsm = logSoftmax(row);
      return -lsm.reduce((s, v, k) => s + ((k === labels[i] ? 1 - eps : 0) + eps / 3) * v, 0);
    }));
  close(await value(() => crossEntropy(t2(logits), labels)), expected(0));
  close(
    await value(() => crossEntropy(t2(logits), labels, { labelSmoothing: 0.1 })),
    expected(0.1),
  );
  // ε = 0.1, label 2 of [1,2,3]: −(0.9+0.1/3)·log p2 − (0.1/3)(log p0 + log p1), by hand:
  const lsm0 = logSoftmax(logits[0]);
  const row0 = -(0.9 + 0.1 / 3) * lsm0[2] - (0.1 / 3) * (lsm0[0] + lsm0[1]);
  close(await value(() => crossEntropy(t2([logits[0]]), [2], { labelSmoothing: 0.1 })), row0);
  assert.throws(() => crossEntropy(t2(logits), [1]), /2 rows of logits but 1 labels/);
});

Deno.test("crossEntropy: gradient is (softmax − target)/N", async () => {
  const logits = [[1, 2, 3], [0.5, 0.5, -1]];
  const eps = 0.1;
  const g = tf.grad((x: tf.Tensor) =>
    crossEntropy(x as tf.Tensor2D, [2, 0], { labelSmoothing: eps })
  )(t2(logits));
  const got = await g.array() as number[][];
  g.dispose();
  logits.forEach((row, i) => {
    const p = logSoftmax(row).map(Math.exp);
    row.forEach((_, k) => {
      const target = (k === [2, 0][i] ? 1 - eps : 0) + eps / 3;
      close(got[i][k], (p[k] - target) / 2, 1e-5, `grad[${i}][${k}]`);
    });
  });
});

Deno.test("attributeBce: reductions, smoothing and DeepMAR weights against hand values", async () => {
  const logits = [[0.5, -1], [2, 0]];
  const targets = [[1, 0], [0, 1]];
  const entry = (l: number, t: number, wp = 1, wn = 1) =>
    -(wp * t * Math.log(sigmoid(l)) + wn * (1 - t) * Math.log(1 - sigmoid(l)));
  const all = (f: (l: number, t: number, j: number) => number) =>
    logits.flatMap((row, i) => row.map((l, j) => f(l, targets[i][j], j)));
  const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
  close(
    await value(() => attributeBce(t2(logits), t2(targets))),
    sum(all((l, t) => entry(l, t))) / 2,
  );
  close(
    await value(() => attributeBce(t2(logits), t2(targets), { reduction: "mean" })),
    sum(all((l, t) => entry(l, t))) / 4,
  );
  // SAL's smoothing: t' = 0.9 t + 0.1/2.
  close(
    await value(() => attributeBce(t2(logits), t2(targets), { labelSmoothing: 0.1 })),
    sum(all((l, t) => entry(l, 0.9 * t + 0.05))) / 2,
  );
  const ratios = [0.2, 0.7];
  const w = positiveRatioWeights(ratios);
  close(w.positive[0], Math.exp(0.8));
  close(w.negative[1], Math.exp(0.7));
  close(
    await value(() => attributeBce(t2(logits), t2(targets), { weights: w })),
    sum(all((l, t, j) => entry(l, t, Math.exp(1 - ratios[j]), Math.exp(ratios[j])))) / 2,
  );
  // Soft labels (TJ-AIDL Step II) are accepted as they are.
  close(
    await value(() => attributeBce(t2([[0.3]]), t2([[0.25]]))),
    entry(0.3, 0.25),
  );
  assert.throws(() => attributeBce(t2(logits), t2([[1, 0]])), /targets are \[1,2\]/);
});

Deno.test("mseLoss and l1Loss: both reductions", async () => {
  const a = [[1, 2, 3], [0, -1, 4]];
  const b = [[0, 2, 5], [1, 1, 1]];
  const sq = a.flatMap((r, i) => r.map((v, j) => (v - b[i][j]) ** 2));
  const ab = a.flatMap((r, i) => r.map((v, j) => Math.abs(v - b[i][j])));
  close(await value(() => mseLoss(t2(a), t2(b))), mean(sq));
  close(await value(() => mseLoss(t2(a), t2(b), "sumOverDims")), sq.reduce((s, v) => s + v) / 2);
  close(await value(() => l1Loss(t2(a), t2(b))), mean(ab));
  assert.throws(() => mseLoss(t2(a), t2([[1]])), /shapes differ/);
});

const points = [[0, 0], [3, 0], [0, 1], [1, 1], [2.5, 2.2]];
const labels = [0, 0, 1, 1, 2];

function batchHardByHand(margin: number | "soft", squared = false): number {
  const d = (i: number, j: number) =>
    squared ? sqDist(points[i], points[j]) : dist(points[i], points[j]);
  return mean(points.map((_, i) => {
    let dap = 0, dan = Infinity;
    points.forEach((_, j) => {
      if (labels[j] === labels[i]) dap = Math.max(dap, d(i, j));
      else dan = Math.min(dan, d(i, j));
    });
    return margin === "soft" ? softplus(dap - dan) : relu(margin + dap - dan);
  }));
}

Deno.test("batchHardTriplet: hinge, soft margin and squared distances", async () => {
  for (const margin of [0.3, 2, "soft"] as const) {
    close(
      await value(() => batchHardTriplet(t2(points), labels, { margin })),
      batchHardByHand(margin),
      1e-5,
      `margin ${margin}`,
    );
  }
  close(
    await value(() => batchHardTriplet(t2(points), labels, { margin: 1, squared: true })),
    batchHardByHand(1, true),
  );
  // By hand for anchor 0: d_ap = 3 (to [3,0]), d_an = 1 (to [0,1]) → [0.3 + 3 − 1]₊ = 2.3.
  const single = await value(() =>
    batchHardTriplet(t2(points.slice(0, 3)), [0, 0, 1], { margin: 0.3 })
  );
  // Anchor 1: d_ap 3, d_an √10; anchor 2: d_ap 0 (alone), d_an 1.
  close(single, (2.3 + relu(0.3 + 3 - Math.sqrt(10)) + relu(0.3 + 0 - 1)) / 3);
  assert.throws(() => batchHardTriplet(t2(points), [0, 0], { margin: 1 }), /5 embeddings but 2/);
});

Deno.test("batchHardTriplet: gradient agrees with finite differences", async () => {
  const x0 = points.flat();
  const f = (x: tf.Tensor) =>
    batchHardTriplet(x.reshape([5, 2]) as tf.Tensor2D, labels, { margin: "soft" });
  const g = tf.grad(f)(tf.tensor1d(x0));
  const analytic = Array.from(await g.data());
  g.dispose();
  const h = 1e-2;
  for (let k = 0; k < x0.length; k++) {
    const plus = x0.slice(), minus = x0.slice();
    plus[k] += h;
    minus[k] -= h;
    const numeric = (await value(() =>
      f(tf.tensor1d(plus))
    ) - await value(() => f(tf.tensor1d(minus)))) /
      (2 * h);
    close(analytic[k], numeric, 2e-3, `d/dx[${k}]`);
  }
});

Deno.test("crossModalTriplet: all / hardest / randomOne against hand values", async () => {
  const rgb = [[0, 0], [2, 0], [0, 2]];
  const ir = [[0, 1], [2, 1], [1, 1]];
  const ids = [0, 1, 2];
  const margin = 1.4;
  const direction = (anchors: number[][], others: number[][], mode: "all" | "hardest") => {
    const perAnchor = anchors.map((a, i) => {
      const dap = sqDist(a, others[i]); // the only positive: the pair partner
      const negs = others.filter((_, k) => k !== i).map((o) => sqDist(a, o));
      return mode === "all"
        ? negs.map((dan) => relu(margin + dap - dan))
        : [relu(margin + dap - Math.min(...negs))];
    });
    return mean(perAnchor.flat());
  };
  for (const mining of ["all", "hardest"] as const) {
    close(
      await value(() => crossModalTriplet(t2(rgb), ids, t2(ir), ids, { margin, mining })),
      direction(rgb, ir, mining) + direction(ir, rgb, mining),
      1e-5,
      mining,
    );
  }
  // Literal sum of cmGAN Eq. 2: 3 anchors × 2 negatives per direction.
  close(
    await value(() => crossModalTriplet(t2(rgb), ids, t2(ir), ids, { margin, reduction: "sum" })),
    6 * (direction(rgb, ir, "all") + direction(ir, rgb, "all")),
  );
  // With two identities every anchor has one positive and one negative: randomOne = all.
  const two = { margin, mining: "randomOne" as const, rng: new Rng(3) };
  close(
    await value(() =>
      crossModalTriplet(t2(rgb.slice(0, 2)), [0, 1], t2(ir.slice(0, 2)), [0, 1], two)
    ),
    await value(() =>
      crossModalTriplet(t2(rgb.slice(0, 2)), [0, 1], t2(ir.slice(0, 2)), [0, 1], { margin })
    ),
  );
  // Normalised embeddings: D² = 2 − 2cos.
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const rgbN = [[1, 0], [0, 3]], irN = [[2, 1], [1, 2]];
  const expected = [0, 1].map((i) => {
    const a = unit(rgbN[i]), p = unit(irN[i]), n = unit(irN[1 - i]);
    const b = unit(irN[i]), pb = unit(rgbN[i]), nb = unit(rgbN[1 - i]);
    return relu(1.2 + sqDist(a, p) - sqDist(a, n)) + relu(1.2 + sqDist(b, pb) - sqDist(b, nb));
  });
  assert.ok(expected[0] > 0 && expected[1] > 0);
  close(
    await value(() =>
      crossModalTriplet(t2(rgbN), [0, 1], t2(irN), [0, 1], { margin: 1.2, normalize: true })
    ),
    (expected[0] + expected[1]) / 2,
  );
  assert.throws(
    () => crossModalTriplet(t2(rgb), ids, t2(ir), ids, { margin, mining: "randomOne" }),
    /needs an rng/,
  );
});

Deno.test("heteroCenterTriplet: centres per identity and modality, then batch-hard", async () => {
  const v = [[0, 0], [2, 0], [4, 4], [4, 6]];
  const t = [[1, 1], [1, 3], [5, 5], [3, 5]];
  const lab = [0, 0, 1, 1];
  const centre = (rows: number[][]) => [mean(rows.map((r) => r[0])), mean(rows.map((r) => r[1]))];
  const cv = [centre(v.slice(0, 2)), centre(v.slice(2))]; // (1,0), (4,5)
  const ct = [centre(t.slice(0, 2)), centre(t.slice(2))]; // (1,2), (4,5)
  const centres = [cv[0], cv[1], ct[0], ct[1]];
  const cl = [0, 1, 0, 1];
  const rho = 0.3;
  const expected = mean(centres.map((c, u) => {
    const dap = Math.max(...centres.filter((_, w) => cl[w] === cl[u]).map((o) => dist(c, o)));
    const dan = Math.min(...centres.filter((_, w) => cl[w] !== cl[u]).map((o) => dist(c, o)));
    return relu(rho + dap - dan);
  }));
  close(await value(() => heteroCenterTriplet(t2(v), lab, t2(t), lab, { margin: rho })), expected);
  assert.throws(
    () => heteroCenterTriplet(t2(v), lab, t2(t), [0, 0, 2, 2]),
    /both modalities/,
  );
});

Deno.test("CenterLoss: mean squared distance to the label's centre; centres get the gradient", async () => {
  const loss = new CenterLoss({ numClasses: 3, dim: 2, seed: 1 });
  const centres = [[0, 0], [1, 1], [-1, 2]];
  loss.centers.assign(t2(centres));
  const f = [[1, 0], [1, 3], [0, 0]];
  const y = [0, 2, 1];
  close(await value(() => loss.loss(t2(f), y)), mean(f.map((r, i) => sqDist(r, centres[y[i]]))));
  const { grads } = tf.variableGrads(() => loss.loss(t2(f), y), [loss.centers]);
  const g = await grads[loss.centers.name].array() as number[][];
  tf.dispose(grads);
  // ∂/∂c_k = −(2/N) Σ_{i: y_i = k} (f_i − c_k).
  close(g[2][0], (-2 / 3) * (1 - -1));
  close(g[2][1], (-2 / 3) * (3 - 2));
  assert.throws(() => loss.loss(t2(f), [0, 3, 1]), /label 3 is outside \[0, 3\)/);
  const same = new CenterLoss({ numClasses: 3, dim: 2, seed: 1 });
  const other = new CenterLoss({ numClasses: 3, dim: 2, seed: 2 });
  const fresh = new CenterLoss({ numClasses: 3, dim: 2, seed: 1 });
  assert.deepEqual(await same.centers.data(), await fresh.centers.data());
  assert.notDeepEqual(await same.centers.data(), await other.centers.data());
  for (const l of [loss, same, other, fresh]) l.dispose();
});

/** Biased MMD² with Σ_s exp(−d²/β_s), in plain JS. */
function mmdByHand(x: number[][], y: number[][], bandwidths: number[]): number {
  const k = (a: number[], b: number[]) =>
    bandwidths.reduce((s, bw) => s + Math.exp(-sqDist(a, b) / bw), 0);
  const avg = (p: number[][], q: number[][]) => mean(p.flatMap((a) => q.map((b) => k(a, b))));
  return avg(x, x) + avg(y, y) - 2 * avg(x, y);
}

Deno.test("gaussianMmd: fixed and adaptive bandwidths against hand values", async () => {
  const x = [[0, 0], [1, 0]];
  const y = [[2, 1], [3, 1], [2, 2]];
  close(
    await value(() => gaussianMmd(t2(x), t2(y), { bandwidths: [1, 4] })),
    mmdByHand(x, y, [1, 4]),
  );
  const z = [...x, ...y];
  const beta = z.flatMap((a) => z.map((b) => sqDist(a, b))).reduce((s, v) => s + v) / (25 - 5);
  const expected = mmdByHand(x, y, [0.25, 0.5, 1, 2, 4].map((m) => m * beta));
  close(await value(() => gaussianMmd(t2(x), t2(y))), expected);
  // The same distribution gives 0.
  close(await value(() => gaussianMmd(t2(x), t2(x), { bandwidths: [1] })), 0, 1e-6);
});

Deno.test("gaussianMmd: gradient agrees with finite differences (bandwidth held fixed)", async () => {
  const y = t2([[2, 1], [3, 1], [2, 2]]);
  const x0 = [0, 0, 1, 0];
  const f = (x: tf.Tensor) => gaussianMmd(x.reshape([2, 2]) as tf.Tensor2D, y);
  const g = tf.grad(f)(tf.tensor1d(x0));
  const analytic = Array.from(await g.data());
  g.dispose();
  // Finite differences must hold β fixed, as the stop-gradient does: use the β of x0.
  const z = [[0, 0], [1, 0], [2, 1], [3, 1], [2, 2]];
  const beta = z.flatMap((a) => z.map((b) => sqDist(a, b))).reduce((s, v) => s + v) / 20;
  const bws = [0.25, 0.5, 1, 2, 4].map((m) => m * beta);
  const yy = [[2, 1], [3, 1], [2, 2]];
  const h = 1e-4;
  for (let k = 0; k < x0.length; k++) {
    const plus = x0.slice(), minus = x0.slice();
    plus[k] += h;
    minus[k] -= h;
    const rows = (v: number[]) => [[v[0], v[1]], [v[2], v[3]]];
    const numeric = (mmdByHand(rows(plus), yy, bws) - mmdByHand(rows(minus), yy, bws)) / (2 * h);
    close(analytic[k], numeric, 1e-3, `d/dx[${k}]`);
  }
  y.dispose();
});

Deno.test("linearMmd and coralLoss against hand values", async () => {
  const x = [[1, 2], [3, 0], [2, 1]];
  const y = [[0, 0], [1, 1]];
  const mu = (r: number[][]) => [mean(r.map((v) => v[0])), mean(r.map((v) => v[1]))];
  const lin = sqDist(mu(x), mu(y));
  close(await value(() => linearMmd(t2(x), t2(y))), lin);
  const cov = (r: number[][]) => {
    const m = mu(r);
    return [0, 1].map((a) =>
      [0, 1].map((b) => r.reduce((s, v) => s + (v[a] - m[a]) * (v[b] - m[b]), 0) / (r.length - 1))
    );
  };
  const cx = cov(x), cy = cov(y);
  const frob = [0, 1].reduce(
    (s, a) => s + [0, 1].reduce((t, b) => t + (cx[a][b] - cy[a][b]) ** 2, 0),
    0,
  );
  close(await value(() => coralLoss(t2(x), t2(y), { includeMean: false })), frob / 16);
  close(await value(() => coralLoss(t2(x), t2(y))), frob / 16 + lin);
});

Deno.test("marginMmdId: an identity counts only when its MMD² exceeds the margin", async () => {
  // Identity 0: modalities far apart (large MMD²); identity 1: close (small MMD²).
  const v = [[0, 0], [0, 1], [5, 5], [5, 6]];
  const t = [[3, 0], [3, 1], [5, 5.1], [5.1, 6]];
  const lab = [0, 0, 1, 1];
  const perId = [0, 1].map((id) => {
    const xv = v.filter((_, i) => lab[i] === id), xt = t.filter((_, i) => lab[i] === id);
    const z = [...xv, ...xt];
    const beta = z.flatMap((a) => z.map((b) => sqDist(a, b))).reduce((s, q) => s + q) / (16 - 4);
    return mmdByHand(xv, xt, [0.25, 0.5, 1, 2, 4].map((m) => m * beta));
  });
  assert.ok(perId[0] > 0.5 && perId[1] < 0.5, `test data should straddle the margin: ${perId}`);
  close(
    await value(() => marginMmdId(t2(v), lab, t2(t), lab, { margin: 0.5 })),
    perId[0] / 2,
    1e-4,
  );
  close(
    await value(() => marginMmdId(t2(v), lab, t2(t), lab, { margin: 0 })),
    (perId[0] + perId[1]) / 2,
    1e-4,
  );
});

Deno.test("adversarial losses: BCE, least squares, SAL's variant, confusion", async () => {
  const s = [0.5, -2, 3];
  const sT = () => tf.tensor1d(s);
  close(await value(() => ganBceLoss(sT(), "real")), mean(s.map((v) => -Math.log(sigmoid(v)))));
  close(await value(() => ganBceLoss(sT(), "fake")), mean(s.map((v) => -Math.log(1 - sigmoid(v)))));
  close(await value(() => lsganLoss(sT(), "real")), mean(s.map((v) => (v - 1) ** 2)));
  close(await value(() => lsganLoss(sT(), "fake")), mean(s.map((v) => v ** 2)));
  // SAL: probabilities treated as logits, targets 1.0 (real) and 0.1 (fake).
  const p = [0.2, 0.9, 0.5];
  const pT = () => tf.tensor1d(p);
  close(await value(() => salGanLoss(pT(), "real")), mean(p.map((v) => softplus(v) - v)));
  close(await value(() => salGanLoss(pT(), "fake")), mean(p.map((v) => softplus(v) - 0.1 * v)));
  // −(1/2)(log σ(0.2)... ) written out for one sample: real target on 0.2 → softplus(0.2) − 0.2.
  close(
    await value(() => salGanLoss(tf.tensor1d([0.2]), "real")),
    Math.log(1 + Math.exp(0.2)) - 0.2,
  );
  const logits = [[2, 0], [0, 0]];
  close(
    await value(() => confusionLoss(t2(logits))),
    mean(logits.map((row) => -mean(logSoftmax(row)))),
  );
  close(await value(() => confusionLoss(t2([[0, 0]]))), Math.LN2);
});

Deno.test("stopGradient: identity forward, zero gradient", async () => {
  const x = tf.tensor1d([1, 2, 3]);
  const g = tf.grad((v: tf.Tensor) => stopGradient(v).mul(v).sum())(x);
  // d/dx [sg(x)·x] = sg(x) = x.
  assert.deepEqual(Array.from(await g.data()), [1, 2, 3]);
  tf.dispose([x, g]);
});

/** Autodiff gradient of `f` at `x0` against central finite differences. */
async function checkGradient(
  f: (x: tf.Tensor1D) => tf.Scalar,
  x0: number[],
  h = 1e-2,
  tol = 2e-3,
) {
  const g = tf.grad((x: tf.Tensor) => f(x as tf.Tensor1D))(tf.tensor1d(x0));
  const analytic = Array.from(await g.data());
  g.dispose();
  assert.ok(analytic.some((v) => Math.abs(v) > 1e-3), "gradient should not vanish here");
  for (let k = 0; k < x0.length; k++) {
    const plus = x0.slice(), minus = x0.slice();
    plus[k] += h;
    minus[k] -= h;
    const numeric = (await value(() =>
      f(tf.tensor1d(plus))
    ) - await value(() => f(tf.tensor1d(minus)))) /
      (2 * h);
    close(analytic[k], numeric, tol, `d/dx[${k}]`);
  }
}

Deno.test("crossModalTriplet and heteroCenterTriplet: gradients agree with finite differences", async () => {
  const rgb = [0, 0, 2, 0.3, 0.2, 2.1];
  const ir = t2([[0.4, 1], [2, 1.2], [1, 1.5]]);
  const ids = [0, 1, 2];
  for (const mining of ["all", "hardest"] as const) {
    await checkGradient(
      (x) =>
        crossModalTriplet(x.reshape([3, 2]) as tf.Tensor2D, ids, ir, ids, { margin: 1.4, mining }),
      rgb,
    );
  }
  const irRows = t2([[1, 1], [1, 3], [5, 5], [3, 5]]);
  await checkGradient(
    (x) =>
      heteroCenterTriplet(x.reshape([4, 2]) as tf.Tensor2D, [0, 0, 1, 1], irRows, [0, 0, 1, 1], {
        margin: 3,
      }),
    [0, 0, 2, 0.5, 3, 3.5, 4, 4],
  );
  ir.dispose();
  irRows.dispose();
});
