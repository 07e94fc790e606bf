import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../runtime/backend.ts";
import { checkNoLeak } from "../../runtime/leak.ts";
import { Rng } from "../../runtime/random.ts";
import { countParams } from "../init.ts";
import { crossEntropy } from "../losses/mod.ts";
import { classifier } from "../heads.ts";
import { convBn } from "./blocks.ts";
import { MOBILENET_V1_BLOCKS, mobileNetV1 } from "./mobilenet.ts";
import { resNet50, torchKeyToWeightName } from "./resnet50.ts";
import { smallResNet, smallResNetStages } from "./small_resnet.ts";
import { twoStream } from "./two_stream.ts";

await initBackend({ announce: false });

/** ResNet-50's conv and BN sizes, from the bottleneck layout (not from the model). */
function resnet50Counts(): { conv: number; bnChannels: number } {
  let conv = 7 * 7 * 3 * 64;
  let bn = 64;
  let cin = 64;
  [[64, 3], [128, 4], [256, 6], [512, 3]].forEach(([planes, blocks]) => {
    for (let b = 0; b < blocks; b++) {
      conv += cin * planes + 9 * planes * planes + planes * 4 * planes;
      bn += planes + planes + 4 * planes;
      if (b === 0) {
        conv += cin * 4 * planes;
        bn += 4 * planes;
      }
      cin = 4 * planes;
    }
  });
  return { conv, bnChannels: bn };
}

Deno.test("resNet50: torchvision parameter count, last stride 1, torchvision names", () => {
  const model = resNet50({ inputShape: [64, 32, 3], lastStride: 1, pooling: "none", seed: 1 });
  const { conv, bnChannels } = resnet50Counts();
  assert.equal(countParams(model, "trainable"), conv + 2 * bnChannels);
  assert.equal(countParams(model, "trainable"), 23_508_032); // torchvision 25,557,032 − fc 2,049,000
  assert.equal(countParams(model) - countParams(model, "trainable"), 53_120);
  // 64×32 input, total stride 16 with last stride 1.
  assert.deepEqual(model.outputs[0].shape, [null, 4, 2, 2048]);
  const names = new Set(model.weights.map((w) => w.originalName));
  for (
    const [key, name] of [
      ["conv1.weight", "conv1/kernel"],
      ["bn1.bias", "bn1/beta"],
      ["layer1.0.downsample.0.weight", "layer1_0_downsample_0/kernel"],
      ["layer1.0.downsample.1.running_var", "layer1_0_downsample_1/moving_variance"],
      ["layer3.5.bn2.weight", "layer3_5_bn2/gamma"],
      ["layer4.2.conv3.weight", "layer4_2_conv3/kernel"],
    ]
  ) {
    assert.equal(torchKeyToWeightName(key), name);
    assert.ok(names.has(name), `model lacks ${name}`);
  }
  assert.equal(torchKeyToWeightName("bn1.num_batches_tracked"), null);
  const y = tf.tidy(() => (model.predict(tf.ones([1, 64, 32, 3])) as tf.Tensor).shape);
  assert.deepEqual(y, [1, 4, 2, 2048]);
  model.dispose();
});

Deno.test("mobileNetV1: Keras parameter count at α = 1, shapes at α = 0.25", () => {
  const full = mobileNetV1({ inputShape: [64, 32, 3], seed: 1 });
  let trainable = 27 * 32 + 2 * 32, cin = 32;
  for (const { filters } of MOBILENET_V1_BLOCKS) {
    trainable += 9 * cin + 2 * cin + cin * filters + 2 * filters;
    cin = filters;
  }
  assert.equal(countParams(full, "trainable"), trainable);
  assert.equal(countParams(full), 3_228_864); // Keras MobileNet(include_top=False)
  assert.deepEqual(full.outputs[0].shape, [null, 1024]);
  full.dispose();
  const small = mobileNetV1({ inputShape: [64, 32, 3], alpha: 0.25, pooling: "none", seed: 1 });
  assert.deepEqual(small.outputs[0].shape, [null, 2, 1, 256]);
  assert.ok(small.getLayer("conv_dw_13") !== undefined);
  const y = tf.tidy(() => (small.predict(tf.ones([2, 64, 32, 3])) as tf.Tensor).shape);
  assert.deepEqual(y, [2, 2, 1, 256]);
  small.dispose();
});

Deno.test("twoStream: modality-specific stages, shared rest, RGB rows then IR rows", async () => {
  const stages = smallResNetStages({ inputShape: [16, 8, 3], widths: [4, 8] });
  // Stages: stem, stage1, stage2. sharedFrom 2: stem + stage1 per modality.
  const model = twoStream(stages, { sharedFrom: 2, seed: 3, name: "ts" });
  const one = smallResNet({ inputShape: [16, 8, 3], widths: [4, 8], seed: 3, name: "one" });
  const specific = one.weights
    .filter((w) => /one_(conv1|bn1|layer1_)/.test(w.originalName))
    .reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
  assert.equal(countParams(model), countParams(one) + specific);
  assert.ok(model.weights.some((w) => w.originalName.startsWith("ts_ir_layer1_0_conv1")));
  assert.ok(model.weights.some((w) => w.originalName.startsWith("ts_layer2_0_conv1")));
  const rng = new Rng(4);
  const gaps = tf.tidy(() => {
    const rgb = tf.tensor4d(rng.normalArray(3 * 16 * 8 * 3), [3, 16, 8, 3]);
    const ir = tf.tensor4d(rng.normalArray(2 * 16 * 8 * 3), [2, 16, 8, 3]);
    const both = model.apply([rgb, ir]) as tf.Tensor;
    // The same images through the IR stream give other features than through the RGB stream.
    const swapped = model.apply([rgb.slice(0, 2), rgb.slice(0, 2)]) as tf.Tensor;
    const rowsRgb = swapped.slice(0, 2), rowsIr = swapped.slice(2, 2);
    return {
      shape: both.shape,
      streamGap: rowsRgb.sub(rowsIr).abs().max(),
      // In inference mode rows are independent: RGB rows match a run with other IR images.
      rowGap: both.slice(0, 2).sub(rowsRgb).abs().max(),
    };
  });
  const out = {
    shape: gaps.shape,
    streamGap: (await gaps.streamGap.data())[0],
    rowGap: (await gaps.rowGap.data())[0],
  };
  tf.dispose([gaps.streamGap, gaps.rowGap]);
  assert.deepEqual(out.shape, [5, 8]);
  assert.ok(out.streamGap > 1e-4, "the two streams should differ");
  assert.ok(out.rowGap < 1e-5, `RGB rows should not depend on the IR batch (${out.rowGap})`);
  assert.throws(() => twoStream(stages, { sharedFrom: 0, seed: 1 }), /sharedFrom must be/);
  model.dispose();
  one.dispose();
});

Deno.test("training: a tiny small-ResNet's loss falls, with a flat tensor count", async () => {
  const rng = new Rng(21);
  const net = smallResNet({ inputShape: [16, 8, 3], widths: [4, 8], seed: rng.fork("net") });
  const head = classifier({ inputDim: 8, numClasses: 2, seed: rng.fork("head") });
  const n = 16;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  // Class 1 images are brighter in the top half.
  const xs = tf.tidy(() => {
    const noise = tf.tensor4d(rng.normalArray(n * 16 * 8 * 3, 0, 0.5), [n, 16, 8, 3]);
    const top = tf.concat([tf.ones([1, 8, 8, 3]), tf.zeros([1, 8, 8, 3])], 1);
    return noise.add(tf.tensor1d(labels).reshape([n, 1, 1, 1]).mul(top));
  });
  const optimizer = tf.train.adam(0.01);
  const vars = [...net.trainableWeights, ...head.trainableWeights].map((w) =>
    w.read() as tf.Variable
  );
  const losses: number[] = [];
  const step = async () => {
    const cost = optimizer.minimize(
      () =>
        tf.tidy(() =>
          crossEntropy(head.apply(net.apply(xs, { training: true })) as tf.Tensor2D, labels)
        ),
      true,
      vars,
    );
    losses.push((await cost!.data())[0]);
    cost!.dispose();
  };
  await checkNoLeak(step, { burnIn: 2, steps: 3, label: "small resnet step" });
  for (let i = 0; i < 10; i++) step();
  assert.ok(
    losses.at(-1)! < 0.7 * losses[0],
    `loss should fall: ${losses.map((l) => l.toFixed(3))}`,
  );
  optimizer.dispose();
  xs.dispose();
  net.dispose();
  head.dispose();
});

Deno.test("convBn: a strided 3×3 conv pads like PyTorch's padding=1 (not TF's 'same')", async () => {
  const input = tf.input({ shape: [4, 4, 1] });
  const out = convBn(input, {
    filters: 1,
    kernel: 3,
    stride: 2,
    relu: false,
    conv: "c",
    bn: "b",
    rng: new Rng(1),
  });
  const model = tf.model({ inputs: input, outputs: out });
  model.getLayer("c").setWeights([tf.ones([3, 3, 1, 1])]);
  const x = Array.from({ length: 16 }, (_, i) => i + 1); // row-major 4×4
  const prediction = tf.tidy(() => model.predict(tf.tensor4d(x, [1, 4, 4, 1])) as tf.Tensor);
  const got = Array.from(await prediction.data());
  prediction.dispose();
  // PyTorch: output (i, j) sums input rows 2i−1..2i+1 and columns 2j−1..2j+1 inside the image;
  // BN at initial statistics divides by √(1 + 1e-5).
  const at = (r: number, c: number) => (r < 0 || c < 0 || r > 3 || c > 3 ? 0 : x[r * 4 + c]);
  const expected: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) s += at(2 * i + dr, 2 * j + dc);
      }
      expected.push(s / Math.sqrt(1 + 1e-5));
    }
  }
  got.forEach((v, k) =>
    assert.ok(Math.abs(v - expected[k]) < 1e-3, `output ${k}: ${v} vs ${expected[k]}`)
  );
  model.dispose();
});
