import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend.ts";
import { formatBytes, formatPeaks, MemoryMonitor, TensorCountGuard } from "./memory.ts";

await initBackend({ announce: false });

Deno.test("TensorCountGuard: flat counts pass, a growth after the first epoch throws", () => {
  const guard = new TensorCountGuard("toy");
  guard.endEpoch(10);
  guard.endEpoch(10);
  guard.endEpoch(9);
  assert.equal(guard.flat, false);
  assert.throws(
    () => guard.endEpoch(11),
    /toy leaks tensors: 10 live after epoch 1, 11 after epoch 4/,
  );
  const flat = new TensorCountGuard();
  flat.endEpoch(3);
  flat.endEpoch(3);
  assert.equal(flat.flat, true);
  const slack = new TensorCountGuard("s", 2);
  slack.endEpoch(5);
  slack.endEpoch(7);
  assert.throws(() => slack.endEpoch(8), /leaks/);
});

Deno.test("TensorCountGuard: reads tf.memory() by default and catches a real leak", () => {
  const guard = new TensorCountGuard("leaky");
  const kept: tf.Tensor[] = [];
  const epoch = (leak: boolean) => {
    tf.tidy(() => {
      tf.ones([4]).add(1);
    });
    if (leak) kept.push(tf.zeros([2]));
    guard.endEpoch();
  };
  epoch(false);
  epoch(false);
  assert.throws(() => epoch(true), /leaky leaks tensors/);
  tf.dispose(kept);
});

Deno.test("MemoryMonitor keeps peaks of tfjs memory", () => {
  const monitor = new MemoryMonitor(0);
  const base = monitor.peaks.peakTfBytes;
  const big = tf.zeros([1000, 100]);
  monitor.sample();
  big.dispose();
  const peaks = monitor.stop();
  assert.ok(peaks.peakTfBytes >= base + 400_000, `${peaks.peakTfBytes} vs ${base}`);
  assert.ok(peaks.peakRssBytes > 0);
  assert.match(formatPeaks(peaks), /^peak RSS \d/);
});

Deno.test("formatBytes", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1_500_000), "1.5 MB");
  assert.equal(formatBytes(412_000_000), "412 MB");
});
