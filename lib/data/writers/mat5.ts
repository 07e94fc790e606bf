/**
 * The one writer of MATLAB Level-5 MAT-files here (its reader is
 * lib/data/loaders/matv5.ts), enough for the annotation files of the releases we
 * imitate: `market_attribute.mat`, `duke_attribute.mat` (nested 1×1 structs of
 * 1×N double rows and a cell of id strings) and PAENet's `camK_att.mat` (an 8×N
 * uint8 matrix). Uncompressed by default (what the generator writes);
 * `compress` wraps each variable in a miCOMPRESSED element, as MATLAB saves by
 * default, so the loaders' tests can read both forms.
 *
 * Format: a 128-byte header, then one miMATRIX data element per variable;
 * every element is an 8-byte tag (type, byte count) and data padded to 8
 * bytes; a matrix holds array flags, dimensions, a name and its data (MATLAB
 * "MAT-File Format" reference, Level 5). Written little-endian.
 *
 * @module
 */
import { deflateSync } from "node:zlib";

/** A value that can be stored. Plain numbers arrays become 1×N double rows. */
export type MatValue =
  | { kind: "double"; rows: number; cols: number; data: ArrayLike<number> }
  | { kind: "uint8"; rows: number; cols: number; data: ArrayLike<number> }
  | { kind: "char"; text: string }
  | { kind: "cell"; rows: number; cols: number; items: MatValue[] }
  | { kind: "struct"; fields: [string, MatValue][] };

/** A 1×N double row. */
export const doubleRow = (values: ArrayLike<number>): MatValue => ({
  kind: "double",
  rows: 1,
  cols: values.length,
  data: values,
});

/** A 1×N cell row of strings. */
export const stringCellRow = (values: string[]): MatValue => ({
  kind: "cell",
  rows: 1,
  cols: values.length,
  items: values.map((text) => ({ kind: "char", text })),
});

const MI_INT8 = 1,
  MI_UINT8 = 2,
  MI_UINT16 = 4,
  MI_INT32 = 5,
  MI_UINT32 = 6,
  MI_DOUBLE = 9,
  MI_MATRIX = 14,
  MI_COMPRESSED = 15;
const MX_CELL = 1, MX_STRUCT = 2, MX_CHAR = 4, MX_DOUBLE = 6, MX_UINT8 = 9;

class Bytes {
  chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function element(type: number, data: Uint8Array): Uint8Array {
  const padded = Math.ceil(data.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

function int32s(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setInt32(i * 4, x, true));
  return b;
}

function matrix(value: MatValue, name: string): Uint8Array {
  const body = new Bytes();
  const flags = (cls: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, cls, true);
    return element(MI_UINT32, b);
  };
  const dims = (r: number, c: number) => element(MI_INT32, int32s([r, c]));
  const nameEl = element(MI_INT8, new TextEncoder().encode(name));
  switch (value.kind) {
    case "double": {
      body.push(flags(MX_DOUBLE));
      body.push(dims(value.rows, value.cols));
      body.push(nameEl);
      const b = new Uint8Array(value.data.length * 8);
      const v = new DataView(b.buffer);
      for (let i = 0; i < value.data.length; i++) v.setFloat64(i * 8, value.data[i], true);
      body.push(element(MI_DOUBLE, b));
      break;
    }
    case "uint8": {
      body.push(flags(MX_UINT8));
      body.push(dims(value.rows, value.cols));
      body.push(nameEl);
      body.push(element(MI_UINT8, Uint8Array.from(value.data)));
      break;
    }
    case "char": {
      body.push(flags(MX_CHAR));
      body.push(dims(1, value.text.length));
      body.push(nameEl);
      const b = new Uint8Array(value.text.length * 2);
      const v = new DataView(b.buffer);
      for (let i = 0; i < value.text.length; i++) {
        v.setUint16(i * 2, value.text.charCodeAt(i), true);
      }
      body.push(element(MI_UINT16, b));
      break;
    }
    case "cell": {
      body.push(flags(MX_CELL));
      body.push(dims(value.rows, value.cols));
      body.push(nameEl);
      for (const item of value.items) body.push(matrix(item, ""));
      break;
    }
    case "struct": {
      body.push(flags(MX_STRUCT));
      body.push(dims(1, 1));
      body.push(nameEl);
      const width = 32;
      body.push(element(MI_INT32, int32s([width])));
      const names = new Uint8Array(width * value.fields.length);
      value.fields.forEach(([field], i) => {
        if (field.length >= width) throw new Error(`mat5: field name too long: ${field}`);
        names.set(new TextEncoder().encode(field), i * width);
      });
      body.push(element(MI_INT8, names));
      for (const [, v] of value.fields) body.push(matrix(v, ""));
      break;
    }
  }
  return element(MI_MATRIX, body.concat());
}

/** A complete MAT-file holding the given top-level variables. */
export function writeMat5(
  variables: [name: string, value: MatValue][],
  options: { compress?: boolean } = {},
): Uint8Array {
  const out = new Bytes();
  const header = new Uint8Array(128).fill(0x20);
  const text = "MATLAB 5.0 MAT-file, written by reid-notebooks lib/data/writers/mat5.ts";
  header.set(new TextEncoder().encode(text), 0);
  header.fill(0, 116, 124); // no subsystem data
  header[124] = 0x00;
  header[125] = 0x01; // version 0x0100, little-endian
  header[126] = 0x49; // "I"
  header[127] = 0x4d; // "M"
  out.push(header);
  for (const [name, value] of variables) {
    const m = matrix(value, name);
    if (!options.compress) {
      out.push(m);
      continue;
    }
    // A compressed element is not padded: its byte count is the zlib stream's.
    const z = new Uint8Array(deflateSync(m));
    const tag = new Uint8Array(8);
    const v = new DataView(tag.buffer);
    v.setUint32(0, MI_COMPRESSED, true);
    v.setUint32(4, z.length, true);
    out.push(tag);
    out.push(z);
  }
  return out.concat();
}
