/**
 * Model files on the local disk with Deno APIs: a tfjs IOHandler that writes and
 * reads `model.json` + `weights.bin` (tfjs' own `file://` handler needs
 * tfjs-node), and strict weight loading for user-supplied pretrained weights.
 *
 * The format is tfjs-layers' (`model.json` with `modelTopology` and
 * `weightsManifest`), which is also what `tensorflowjs_converter` produces from
 * a Keras `.h5` file, so both load the same way. Nothing here downloads:
 * paths are local files only.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** File name of the model description inside a model directory. */
export const MODEL_JSON = "model.json";
/** File name of the weights inside a model directory. */
export const WEIGHTS_BIN = "weights.bin";

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** Writes `data` to `path` through a temporary file and a rename, so readers never see half a file. */
async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/**
 * An IOHandler for `model.save(handler)` / `tf.loadLayersModel(handler)` that keeps
 * a model in directory `dir` as `model.json` and `weights.bin`. Saving writes the
 * weights first and `model.json` last, each atomically: a directory whose
 * `model.json` exists is complete.
 */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await Deno.mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData === undefined
        ? new ArrayBuffer(0)
        : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      await writeAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      const json: Record<string, unknown> = {
        modelTopology: artifacts.modelTopology ?? null,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeAtomic(join(dir, MODEL_JSON), new TextEncoder().encode(JSON.stringify(json)));
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({
          ...artifacts,
          weightData,
        }),
      };
    },
    load: () => readModelFiles(join(dir, MODEL_JSON)),
  };
}

function isRemote(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith("file://");
}

/**
 * Reads a tfjs-layers `model.json` (or the directory holding one) and the weight
 * files its manifest lists, from the local disk only. Errors name the file.
 */
export async function readModelFiles(path: string): Promise<tf.io.ModelArtifacts> {
  if (isRemote(path)) {
    throw new Error(
      `${path}: only local files are read (nothing is ever downloaded); ` +
        "copy the model.json and its weight files to a local directory",
    );
  }
  let file = path.startsWith("file://") ? new URL(path).pathname : path;
  try {
    if ((await Deno.stat(file)).isDirectory) file = join(file, MODEL_JSON);
  } catch {
    throw new Error(`${file}: no such file (expected a tfjs-layers model.json or its directory)`);
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    throw new Error(`${file}: not a readable JSON model file (${(error as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new Error(`${file}: no weightsManifest (expected a tfjs-layers model.json)`);
  }
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const weightFile = join(dirname(file), p.replace(/^\.\//, ""));
        try {
          const bytes = await Deno.readFile(weightFile);
          buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        } catch {
          throw new Error(
            `${file}: weight file ${weightFile} listed in weightsManifest is missing`,
          );
        }
      }
    }
    return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
  });
}

/** Options of {@link setWeightsStrict} / {@link loadWeightsStrict}. */
export interface StrictLoadOptions {
  /**
   * Maps a weight name of the file to the model's name (e.g. adding a layer
   * prefix for a two-stream model); return null to leave a file weight out on
   * purpose (e.g. an ImageNet classifier). Default: names unchanged.
   */
  rename?: (fileName: string) => string | null;
}

/**
 * Sets every weight of `model` from `weights` (name → tensor), strictly: a model
 * weight missing from the file, a file weight the model has no place for, or a
 * shape mismatch throws an error naming `source` and the weight; nothing is
 * written unless everything matches. Names are the weights' original names
 * (`layer/kernel`), as `model.save` writes them.
 */
export function setWeightsStrict(
  model: tf.LayersModel,
  weights: tf.NamedTensorMap,
  source: string,
  options: StrictLoadOptions = {},
): void {
  const targets = new Map(model.weights.map((w) => [w.originalName, w]));
  const values = new Map<string, tf.Tensor>();
  const problems: string[] = [];
  for (const [fileName, tensor] of Object.entries(weights)) {
    const name = options.rename ? options.rename(fileName) : fileName;
    if (name === null) continue;
    const target = targets.get(name);
    if (!target) {
      problems.push(`unused weight "${fileName}" (the model has no weight "${name}")`);
    } else if (values.has(name)) {
      problems.push(`weight "${name}" given twice`);
    } else if (!tf.util.arraysEqual(target.shape as number[], tensor.shape)) {
      problems.push(
        `weight "${name}" has shape [${tensor.shape}] in the file but [${target.shape}] in the model`,
      );
    } else {
      values.set(name, tensor);
    }
  }
  for (const name of targets.keys()) {
    if (!values.has(name) && !problems.some((p) => p.includes(`"${name}"`))) {
      problems.push(`missing weight "${name}"`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join("; ");
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : "";
    throw new Error(`${source}: weights do not match model "${model.name}": ${shown}${more}`);
  }
  for (const [name, tensor] of values) targets.get(name)!.write(tensor);
}

/**
 * Loads the weights of a local tfjs-layers model file (or a Keras model converted
 * by `tensorflowjs_converter`) into `model`, strictly (see {@link setWeightsStrict}).
 * Only the weights are used; the model's architecture comes from our code.
 */
export async function loadWeightsStrict(
  model: tf.LayersModel,
  path: string,
  options: StrictLoadOptions = {},
): Promise<void> {
  const artifacts = await readModelFiles(path);
  const weights = tf.io.decodeWeights(
    artifacts.weightData ?? new ArrayBuffer(0),
    artifacts.weightSpecs ?? [],
  );
  try {
    setWeightsStrict(model, weights, path, options);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/**
 * Builds a model and fills it with pretrained weights from a local file, strictly.
 * Never downloads: a missing file is an error that says where the weights should
 * be. Raw Keras `.h5` files must first be converted with `tensorflowjs_converter
 * --input_format keras model.h5 outdir/` (no HDF5 reader runs here).
 */
export async function fromPretrained<T extends tf.LayersModel>(
  path: string,
  build: () => T,
  options: StrictLoadOptions = {},
): Promise<T> {
  if (/\.(h5|hdf5|keras)$/i.test(path)) {
    throw new Error(
      `${path}: Keras files must be converted first: ` +
        "tensorflowjs_converter --input_format keras <file.h5> <dir>, then pass <dir>/model.json",
    );
  }
  const model = build();
  try {
    await loadWeightsStrict(model, path, options);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
