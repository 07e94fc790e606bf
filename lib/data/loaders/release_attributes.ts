/**
 * The identity-level attribute annotations released for Market-1501
 * (Lin et al., "Improving person re-identification by attribute and identity
 * learning": `market_attribute.mat`) and DukeMTMC-reID (`duke_attribute.mat`).
 *
 * Each file holds one struct variable (`market_attribute` / `duke_attribute`)
 * with sub-structs `train` and `test`; each has one 1×N array per attribute
 * (values 1 = no / first class, 2 = yes / second class; Market's `age` is
 * 1–4) and `image_index`, a 1×N cell of the identity strings ("0002").
 *
 * The same content is accepted as JSON (`market_attribute.json`):
 * `{"market_attribute": {"train": {"age": [..], …, "image_index": ["0002", …]},
 * "test": {…}}}` — what `scipy.io.loadmat` shows, written with plain lists.
 *
 * Labels become binary attributes, named and ordered as the field's loaders
 * (e.g. SAL's) list them: a two-valued field gives `value − 1` under the
 * field's name (so `gender` = 1 means female, `hair` = 1 long hair, `up` = 1
 * short sleeves, `down` = 1 short lower garment, `clothes` = 1 pants, Duke's
 * `top` = 1 long upper garment, `shoes` = 1 light shoes). Market: `young`,
 * `teenager`, `adult`, `old` (one-hot `age`, group "age"), the nine binary
 * fields, then the upper and lower colours (groups "upper_color",
 * "lower_color"): 30 dims. Duke: the eight binary fields, then the lower and
 * upper colours: 23 dims.
 *
 * @module
 */
import { join } from "node:path";
import { AnnotationError, isFile } from "./common.ts";
import { type MatValue, readMat } from "./matv5.ts";

/** Binary fields of the Market-1501 annotation, in the order of the release's test struct. */
export const MARKET_BINARY_FIELDS = [
  "backpack",
  "bag",
  "handbag",
  "clothes",
  "down",
  "up",
  "hair",
  "hat",
  "gender",
] as const;
/** Market-1501 upper-body colour fields. */
export const MARKET_UPPER_COLORS = [
  "upblack",
  "upwhite",
  "upred",
  "uppurple",
  "upyellow",
  "upgray",
  "upblue",
  "upgreen",
] as const;
/** Market-1501 lower-body colour fields. */
export const MARKET_LOWER_COLORS = [
  "downblack",
  "downwhite",
  "downpink",
  "downpurple",
  "downyellow",
  "downgray",
  "downblue",
  "downgreen",
  "downbrown",
] as const;
/** Market-1501 age classes 1–4, as one-hot attribute names. */
export const MARKET_AGE_NAMES = ["young", "teenager", "adult", "old"] as const;

/** Binary fields of the DukeMTMC-reID annotation, in the release's order. */
export const DUKE_BINARY_FIELDS = [
  "backpack",
  "bag",
  "handbag",
  "boots",
  "gender",
  "hat",
  "shoes",
  "top",
] as const;
/** DukeMTMC-reID upper-body colour fields. */
export const DUKE_UPPER_COLORS = [
  "upblack",
  "upwhite",
  "upred",
  "uppurple",
  "upgray",
  "upblue",
  "upgreen",
  "upbrown",
] as const;
/** DukeMTMC-reID lower-body colour fields. */
export const DUKE_LOWER_COLORS = [
  "downblack",
  "downwhite",
  "downred",
  "downgray",
  "downblue",
  "downgreen",
  "downbrown",
] as const;

/** Which release: decides the variable name and the field lists. */
export type AttributeRelease = "market" | "duke";

/** Decoded annotation: binary attribute vectors per identity, for each part. */
export interface ReleaseAttributes {
  file: string;
  names: string[];
  groups: Record<string, number[]>;
  /** pid → attribute vector, for the `train` and `test` parts. */
  train: Map<number, Int8Array>;
  test: Map<number, Int8Array>;
}

/** The raw table of one part: field → values, plus the identity strings. */
interface RawPart {
  fields: Record<string, number[]>;
  ids: string[];
}

/** File names the loader looks for, in order. */
export function attributeFileNames(release: AttributeRelease): string[] {
  return [`${release}_attribute.mat`, `${release}_attribute.json`];
}

/** The annotation file under one of `folders`, or null when there is none. */
export function findAttributeFile(
  release: AttributeRelease,
  folders: readonly string[],
): string | null {
  for (const folder of folders) {
    for (const name of attributeFileNames(release)) {
      const path = join(folder, name);
      if (isFile(path)) return path;
    }
  }
  return null;
}

function fromMat(value: MatValue, file: string, part: string): RawPart {
  if (value.kind !== "struct" || value.items.length !== 1) {
    throw new AnnotationError(`${file}: "${part}" is not a 1×1 struct`);
  }
  const fields: Record<string, number[]> = {};
  let ids: string[] | null = null;
  for (const [name, v] of Object.entries(value.items[0])) {
    if (name === "image_index") {
      if (v.kind !== "cell" || v.items.some((item) => item.kind !== "char")) {
        throw new AnnotationError(`${file}: ${part}.image_index is not a cell of strings`);
      }
      ids = v.items.map((item) => (item as { text: string }).text);
    } else if (v.kind === "numeric") fields[name] = [...v.data];
    else throw new AnnotationError(`${file}: ${part}.${name} is not numeric`);
  }
  if (!ids) throw new AnnotationError(`${file}: ${part} has no image_index field`);
  return { fields, ids };
}

function fromJson(value: unknown, file: string, part: string): RawPart {
  if (typeof value !== "object" || value === null) {
    throw new AnnotationError(`${file}: "${part}" is not an object`);
  }
  const fields: Record<string, number[]> = {};
  let ids: string[] | null = null;
  for (const [name, v] of Object.entries(value)) {
    if (name === "image_index") {
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
        throw new AnnotationError(`${file}: ${part}.image_index is not a list of strings`);
      }
      ids = v as string[];
    } else if (Array.isArray(v) && v.every((x) => typeof x === "number")) fields[name] = v;
    else throw new AnnotationError(`${file}: ${part}.${name} is not a list of numbers`);
  }
  if (!ids) throw new AnnotationError(`${file}: ${part} has no image_index field`);
  return { fields, ids };
}

function readParts(file: string, release: AttributeRelease): { train: RawPart; test: RawPart } {
  const variable = `${release}_attribute`;
  let top: Record<string, unknown>;
  const toParts = (
    root: unknown,
    convert: (value: never, file: string, part: string) => RawPart,
    pick: (root: unknown, part: string) => unknown,
  ) => ({
    train: convert(pick(root, "train") as never, file, "train"),
    test: convert(pick(root, "test") as never, file, "test"),
  });
  if (file.endsWith(".mat")) {
    const vars = readMat(Deno.readFileSync(file), file);
    const root = vars[variable];
    if (!root || root.kind !== "struct" || root.items.length !== 1) {
      throw new AnnotationError(
        `${file}: expected a 1×1 struct variable "${variable}" with fields train and test; ` +
          `found variables ${Object.keys(vars).join(", ") || "(none)"}`,
      );
    }
    for (const part of ["train", "test"]) {
      if (!root.items[0][part]) throw new AnnotationError(`${file}: ${variable} has no "${part}"`);
    }
    return toParts(
      root,
      fromMat,
      (r, part) => (r as { items: Record<string, MatValue>[] }).items[0][part],
    );
  }
  try {
    top = JSON.parse(Deno.readTextFileSync(file));
  } catch (error) {
    throw new AnnotationError(`${file}: unreadable JSON (${(error as Error).message})`);
  }
  const root = top[variable] as Record<string, unknown> | undefined;
  if (!root || typeof root !== "object" || !root.train || !root.test) {
    throw new AnnotationError(
      `${file}: expected {"${variable}": {"train": {...}, "test": {...}}}`,
    );
  }
  return toParts(root, fromJson, (r, part) => (r as Record<string, unknown>)[part]);
}

/**
 * Reads and decodes a Market-1501 or DukeMTMC-reID attribute annotation
 * (.mat or .json), checking every field has one value per identity and values
 * in the documented range.
 */
export function readReleaseAttributes(file: string, release: AttributeRelease): ReleaseAttributes {
  const { train, test } = readParts(file, release);
  const binary: readonly string[] = release === "market"
    ? MARKET_BINARY_FIELDS
    : DUKE_BINARY_FIELDS;
  const upper: readonly string[] = release === "market" ? MARKET_UPPER_COLORS : DUKE_UPPER_COLORS;
  const lower: readonly string[] = release === "market" ? MARKET_LOWER_COLORS : DUKE_LOWER_COLORS;
  const known = new Set([...binary, ...upper, ...lower, ...(release === "market" ? ["age"] : [])]);
  for (const [partName, part] of [["train", train], ["test", test]] as const) {
    const missing = [...known].filter((f) => !(f in part.fields));
    const unknown = Object.keys(part.fields).filter((f) => !known.has(f));
    if (missing.length || unknown.length) {
      throw new AnnotationError(
        `${file}: ${partName} fields differ from the ${release} release` +
          (missing.length ? `; missing: ${missing.join(", ")}` : "") +
          (unknown.length ? `; unexpected: ${unknown.join(", ")}` : ""),
      );
    }
  }
  const names: string[] = [];
  const groups: Record<string, number[]> = {};
  const columns: { field: string; value: number }[] = [];
  const add = (name: string, field: string, value: number, group?: string) => {
    if (group) (groups[group] ??= []).push(names.length);
    names.push(name);
    columns.push({ field, value });
  };
  if (release === "market") {
    MARKET_AGE_NAMES.forEach((n, i) => add(n, "age", i + 1, "age"));
    for (const f of binary) add(f, f, 2);
    for (const f of upper) add(f, f, 2, "upper_color");
    for (const f of lower) add(f, f, 2, "lower_color");
  } else {
    for (const f of binary) add(f, f, 2);
    for (const f of lower) add(f, f, 2, "lower_color");
    for (const f of upper) add(f, f, 2, "upper_color");
  }

  const decode = (part: RawPart, partName: string): Map<number, Int8Array> => {
    const n = part.ids.length;
    for (const [field, values] of Object.entries(part.fields)) {
      if (values.length !== n) {
        throw new AnnotationError(
          `${file}: ${partName}.${field} has ${values.length} labels but image_index has ${n} ids`,
        );
      }
      const max = field === "age" ? 4 : 2;
      const bad = values.findIndex((v) => !(Number.isInteger(v) && v >= 1 && v <= max));
      if (bad >= 0) {
        throw new AnnotationError(
          `${file}: ${partName}.${field}[${bad}] (id ${part.ids[bad]}) = ${values[bad]}, ` +
            `expected an integer in 1..${max}`,
        );
      }
    }
    const out = new Map<number, Int8Array>();
    part.ids.forEach((idText, i) => {
      if (!/^\d+$/.test(idText.trim())) {
        throw new AnnotationError(
          `${file}: ${partName}.image_index[${i}] = "${idText}" is not an id`,
        );
      }
      const pid = Number(idText.trim());
      if (out.has(pid)) throw new AnnotationError(`${file}: ${partName} lists id ${idText} twice`);
      out.set(pid, Int8Array.from(columns, (c) => (part.fields[c.field][i] === c.value ? 1 : 0)));
    });
    return out;
  };
  return { file, names, groups, train: decode(train, "train"), test: decode(test, "test") };
}
