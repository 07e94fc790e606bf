/**
 * The CPU scale's stand-in for the paper's ImageNet-pretrained generator
 * (lib/papers/cmgan/README.md, 'Stand-in pretraining'): the CPU scale's small conv net
 * ('Architecture'), trained once as an identity classifier on the
 * synthetic **RGB** pedestrians of the Market- and Duke-like worlds (480 identities
 * disjoint from the SYSU-like world's, no infrared image, no cross-modal label), then
 * handed to every cmGAN cell as `model.pretrained`. The classifier is thrown away; only
 * the generator's weights are kept, as the paper keeps ResNet-50's and drops its FC.
 *
 * Why: from scratch, 64 training identities at the grid's budget never lifted the ID-only
 * baseline above ≈3× chance (results/cmgan/calibration.json), which leaves every ablation
 * ordering inside the noise. The paper never trains its generator from scratch.
 *
 * ```
 * deno run -A lib/papers/cmgan/pretrain.ts [--config '{"steps": 1600}']
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { augmentBatch } from "../../data/augment.ts";
import { imageBytes, type ImageSize, pixelsToTensor } from "../../data/images.ts";
import { loadDataset } from "../../data/loaders/index.ts";
import { loadSplit } from "../../data/split.ts";
import { ensureSyntheticPreset, TINY_PRESET } from "../../engine/synthetic.ts";
import { writeFileAtomic } from "../../runtime/fs.ts";
import { crossEntropy } from "../../nn/losses/classification.ts";
import { classifier } from "../../nn/heads.ts";
import { fileSystemIO, MODEL_JSON } from "../../nn/io.ts";
import { initBackend } from "../../runtime/backend.ts";
import { Rng } from "../../runtime/random.ts";
import { Player, trainableVariables } from "../../train/players.ts";
import { type CmganConfig, CPU_PRETRAIN, type PretrainConfig } from "./config.ts";
import { INPUT_NORMALIZATION } from "./data.ts";
import { repoPath } from "../../runtime/paths.ts";
import { plainConvNet } from "../../nn/backbones/plain.ts";
import { pathExists } from "../../runtime/fs.ts";
import { acquireLock } from "../../runtime/lock.ts";
import { LossHistory } from "../../train/history.ts";
import { runTraining, stepSource } from "../../engine/train_loop.ts";

/** What {@link pretrainBackbone} reports (also written beside the weights). */
export interface PretrainReport {
  config: PretrainConfig;
  classes: number;
  images: number;
  /** Mean cross-entropy over the first and last 10% of steps. */
  lossStart: number;
  lossEnd: number;
  /** Training accuracy over the last 10% of steps. */
  accEnd: number;
  seconds: number;
}

/** Turns the images of `pixels` with probability `p` each to luminance (BT.601), in place. */
export function grayscaleInPlace(pixels: Uint8Array, size: ImageSize, p: number, rng: Rng): void {
  const per = imageBytes(size);
  for (let i = 0; i < pixels.length / per; i++) {
    if (!rng.bernoulli(p)) continue;
    for (let o = i * per; o < (i + 1) * per; o += 3) {
      const y = Math.round(0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2]);
      pixels[o] = pixels[o + 1] = pixels[o + 2] = y;
    }
  }
}

/**
 * Trains the generator of `config` as a classifier of the sources' training identities and
 * returns it (the caller owns it) with a report. Each step is one Adam update on `batch`
 * images drawn uniformly, flipped and grayed at random.
 */
export async function pretrainBackbone(
  config: PretrainConfig,
  log: (line: string) => void = console.error,
): Promise<{ generator: tf.LayersModel; report: PretrainReport }> {
  const t0 = performance.now();
  const size = { height: config.height, width: config.width };
  const parts: { pixels: Uint8Array; labels: Int32Array }[] = [];
  let classes = 0;
  for (const preset of config.sources) {
    const root = await ensureSyntheticPreset(preset, {
      root: repoPath(config.root),
      seed: config.worldSeed,
      overrides: config.tiny ? TINY_PRESET : null,
      log,
    });
    const dataset = loadDataset(preset, root, { verbose: false });
    const which = config.identities === "train" ? "train" : dataset.images.map((_, i) => i);
    const split = await loadSplit(dataset, which, size, {
      identitiesOnly: true,
      // The pixel cache beside the rendered presets ("data/cache" for the CPU recipe).
      cacheDir: join(repoPath(config.root), "cache"),
    });
    parts.push({ pixels: split.pixels, labels: split.labels.map((c) => c + classes) });
    classes += split.numClasses;
  }
  const per = imageBytes(size);
  const images = parts.reduce((a, p) => a + p.labels.length, 0);
  const pixels = new Uint8Array(images * per);
  const labels = new Int32Array(images);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at * per);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  log(`pretrain: ${images} RGB images of ${classes} identities (${config.sources.join(", ")})`);

  const rng = new Rng(config.seed);
  const generator = plainConvNet({
    inputShape: [config.height, config.width, 3],
    widths: config.widths,
    seed: rng.fork("generator"),
  });
  const head = classifier({
    inputDim: config.widths[config.widths.length - 1],
    numClasses: classes,
    seed: rng.fork("head"),
    name: "pretrain_head",
  });
  const player = new Player({
    name: "pretrain",
    variables: trainableVariables(generator, head),
    optimizer: tf.train.adam(config.lr),
  });
  const draw = rng.fork("batches");
  // Draws, flips and graying all come from one stream, consumed batch by batch in order.
  const source = stepSource(config.steps, () => {
    const rows = Array.from({ length: config.batch }, () => draw.int(images));
    const batch = new Uint8Array(rows.length * per);
    rows.forEach((r, i) => batch.set(pixels.subarray(r * per, (r + 1) * per), i * per));
    const augmented = augmentBatch(batch, size, { flip: config.flip }, draw);
    grayscaleInPlace(augmented, size, config.grayscale, draw);
    const y = rows.map((r) => labels[r]);
    return { x: pixelsToTensor(augmented, size, 0, rows.length, INPUT_NORMALIZATION), y };
  }, { release: (b) => b.x.dispose() });
  const history = new LossHistory();
  try {
    await runTraining({
      source,
      label: "pretrain",
      history,
      firstStep: 1,
      progress: "auto",
      guard: 100,
      hooks: [{
        name: "log",
        afterStep({ step }) {
          if (step % 100 !== 0 && step !== config.steps) return;
          log(
            `pretrain step ${step}/${config.steps}: loss ` +
              history.recentMean("l_pretrain", 100).toFixed(3),
          );
        },
      }],
      async step({ batch: { x, y } }) {
        // Filled inside the loss (TypeScript cannot see a closure's assignment to a `let`).
        const kept: { acc?: tf.Scalar } = {};
        try {
          const loss = (await player.step(() => {
            const logits = head.apply(
              generator.apply(x, { training: true }),
            ) as tf.Tensor2D;
            // Kept past the tape's scope and read after the step: no synchronous readback.
            kept.acc = tf.keep(
              tf.tidy(() =>
                tf.mean(tf.equal(tf.argMax(logits, 1), tf.tensor1d(y, "int32")).toFloat())
              ) as tf.Scalar,
            );
            return crossEntropy(logits, y);
          }))!;
          return { l_pretrain: loss, acc: (await kept.acc!.data())[0] };
        } finally {
          kept.acc?.dispose();
        }
      },
    });
  } catch (error) {
    generator.dispose();
    throw error;
  } finally {
    player.dispose();
    head.dispose();
  }
  const losses = history.series("l_pretrain").values;
  const accs = history.series("acc").values;
  const tenth = Math.max(1, Math.floor(config.steps / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    generator,
    report: {
      config,
      classes,
      images,
      lossStart: mean(losses.slice(0, tenth)),
      lossEnd: mean(losses.slice(-tenth)),
      accEnd: mean(accs.slice(-tenth)),
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/** The folder of `config`'s weights: `out/plain-<hash of the other fields>`. */
export async function pretrainDir(config: PretrainConfig): Promise<string> {
  const { out, ...recipe } = config;
  const bytes = new TextEncoder().encode(JSON.stringify(recipe));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return join(repoPath(out), `plain-${hex}`);
}

/**
 * The `model.json` of `config`'s pretrained generator, training and saving it first unless
 * a finished copy is there (`model.json` is written last, so its presence means complete).
 * Grid workers starting together wait on one lock: only one of them trains.
 */
export async function ensurePretrained(
  config: PretrainConfig,
  log: (line: string) => void = console.error,
): Promise<string> {
  const dir = await pretrainDir(config);
  const modelJson = join(dir, MODEL_JSON);
  if (await pathExists(modelJson)) return modelJson;
  await Deno.mkdir(repoPath(config.out), { recursive: true });
  const lock = await acquireLock(`${dir}.lock`, { purpose: "pretraining the cmGAN stand-in", log });
  try {
    if (await pathExists(modelJson)) return modelJson;
    const { generator, report } = await pretrainBackbone(config, log);
    try {
      await Deno.mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, "pretrain.json"), JSON.stringify(report, null, 1) + "\n");
      await generator.save(fileSystemIO(dir));
    } finally {
      generator.dispose();
    }
    log(
      `pretrain: loss ${report.lossStart.toFixed(2)} → ${report.lossEnd.toFixed(2)}, train ` +
        `accuracy ${(100 * report.accEnd).toFixed(1)}% in ${report.seconds.toFixed(0)} s → ${dir}`,
    );
    return modelJson;
  } finally {
    await lock.release();
  }
}

/**
 * `config` with `model.pretrained` pointing at the weights its `model.pretrain` recipe
 * makes (trained first when missing); unchanged when it has no recipe.
 */
export async function withPretrainedWeights(
  config: CmganConfig,
  log: (line: string) => void = () => {},
): Promise<CmganConfig> {
  const { pretrain, pretrained } = config.model;
  if (pretrain === null) return config;
  if (pretrained !== null) {
    throw new Error(
      `cmGAN config: model.pretrained (${pretrained}) and model.pretrain are both set; ` +
        "expected one (a weights file, or the recipe that makes it)",
    );
  }
  if (pretrain.widths.join() !== config.model.widths.join()) {
    throw new Error(
      `cmGAN config: model.pretrain.widths [${pretrain.widths}] differ from model.widths ` +
        `[${config.model.widths}]`,
    );
  }
  const path = await ensurePretrained(pretrain, log);
  return { ...config, model: { ...config.model, pretrained: path } };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string", default: "{}" },
    },
  });
  await initBackend();
  const config = { ...CPU_PRETRAIN, ...JSON.parse(values.config!) } as PretrainConfig;
  console.log(await ensurePretrained(config));
}
