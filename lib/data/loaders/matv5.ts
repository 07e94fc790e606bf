/**
 * A minimal MATLAB level-5 MAT-file reader: numeric arrays, char arrays, cells
 * and structs, plain or zlib-compressed (miCOMPRESSED). Enough to read the
 * attribute annotations released for Market-1501 (`market_attribute.mat`),
 * DukeMTMC-reID (`duke_attribute.mat`) and PAENet's SYSU-MM01 (`camK_att.mat`)
 * without a Python step. The writer is lib/data/writers/mat5.ts. Sparse, complex-valued,
 * object and v7.3 (HDF5) files are refused with a message naming the file.
 *
 * Format reference: MathWorks, "MAT-File Format" (level 5): a 128-byte header,
 * then tagged data elements, each padded to 8 bytes.
 *
 * @module
 */
import { inflateSync } from "node:zlib";

/** A value read from a MAT-file. Dimensions are MATLAB's (column-major). */
export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

/** A numeric or logical array, as float64. */
export interface MatNumeric {
  kind: "numeric";
  dims: number[];
  data: Float64Array;
}

/** A char array; a row vector's text, or the rows joined with "\n". */
export interface MatChar {
  kind: "char";
  dims: number[];
  text: string;
}

/** A cell array (elements in column-major order). */
export interface MatCell {
  kind: "cell";
  dims: number[];
  items: MatValue[];
}

/** A struct array: field names and one record per element (column-major). */
export interface MatStruct {
  kind: "struct";
  dims: number[];
  fields: string[];
  items: Record<string, MatValue>[];
}

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

const MX = { CELL: 1, STRUCT: 2, OBJECT: 3, CHAR: 4, SPARSE: 5 } as const;

interface Element {
  type: number;
  data: Uint8Array;
  next: number;
}

class Reader {
  constructor(readonly bytes: Uint8Array, readonly little: boolean, readonly file: string) {}

  view(data: Uint8Array): DataView {
    return new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  element(offset: number): Element {
    if (offset + 8 > this.bytes.length) this.fail(`truncated data element at byte ${offset}`);
    const v = this.view(this.bytes);
    const word = v.getUint32(offset, this.little);
    if (word >>> 16 !== 0) {
      // Small data element: size and type share the first word, data in the next 4 bytes.
      const size = word >>> 16;
      return {
        type: word & 0xffff,
        data: this.bytes.subarray(offset + 4, offset + 4 + size),
        next: offset + 8,
      };
    }
    const size = v.getUint32(offset + 4, this.little);
    const end = offset + 8 + size;
    if (end > this.bytes.length) this.fail(`data element at byte ${offset} runs past the end`);
    const padded = word === MI.COMPRESSED ? end : offset + 8 + Math.ceil(size / 8) * 8;
    return { type: word, data: this.bytes.subarray(offset + 8, end), next: padded };
  }

  numbers(el: Element): Float64Array {
    const v = this.view(el.data);
    const sizes: Record<number, number> = {
      [MI.INT8]: 1,
      [MI.UINT8]: 1,
      [MI.UTF8]: 1,
      [MI.INT16]: 2,
      [MI.UINT16]: 2,
      [MI.UTF16]: 2,
      [MI.INT32]: 4,
      [MI.UINT32]: 4,
      [MI.UTF32]: 4,
      [MI.SINGLE]: 4,
      [MI.DOUBLE]: 8,
      [MI.INT64]: 8,
      [MI.UINT64]: 8,
    };
    const size = sizes[el.type];
    if (!size) this.fail(`unsupported numeric element type ${el.type}`);
    const n = el.data.length / size;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (el.type) {
        case MI.INT8:
          out[i] = v.getInt8(o);
          break;
        case MI.UINT8:
        case MI.UTF8:
          out[i] = v.getUint8(o);
          break;
        case MI.INT16:
          out[i] = v.getInt16(o, this.little);
          break;
        case MI.UINT16:
        case MI.UTF16:
          out[i] = v.getUint16(o, this.little);
          break;
        case MI.INT32:
          out[i] = v.getInt32(o, this.little);
          break;
        case MI.UINT32:
        case MI.UTF32:
          out[i] = v.getUint32(o, this.little);
          break;
        case MI.SINGLE:
          out[i] = v.getFloat32(o, this.little);
          break;
        case MI.DOUBLE:
          out[i] = v.getFloat64(o, this.little);
          break;
        case MI.INT64:
          out[i] = Number(v.getBigInt64(o, this.little));
          break;
        case MI.UINT64:
          out[i] = Number(v.getBigUint64(o, this.little));
          break;
      }
    }
    return out;
  }

  /** Parses the body of a miMATRIX element. */
  matrix(body: Uint8Array): { name: string; value: MatValue } {
    if (body.length === 0) {
      return { name: "", value: { kind: "numeric", dims: [0, 0], data: new Float64Array(0) } };
    }
    const sub = new Reader(body, this.little, this.file);
    const flags = sub.element(0);
    const cls = sub.view(flags.data).getUint32(0, this.little) & 0xff;
    const complex = (sub.view(flags.data).getUint32(0, this.little) & 0x800) !== 0;
    const dimsEl = sub.element(flags.next);
    const dims = [...sub.numbers(dimsEl)];
    const nameEl = sub.element(dimsEl.next);
    const name = new TextDecoder().decode(nameEl.data);
    const count = dims.reduce((a, b) => a * b, 1);
    let at = nameEl.next;
    if (cls === MX.SPARSE || cls === MX.OBJECT) this.fail(`array class ${cls} is not supported`);
    if (complex) this.fail(`complex array "${name}" is not supported`);
    if (cls === MX.CELL) {
      const items: MatValue[] = [];
      for (let i = 0; i < count; i++) {
        const el = sub.element(at);
        items.push(this.matrixElement(el).value);
        at = el.next;
      }
      return { name, value: { kind: "cell", dims, items } };
    }
    if (cls === MX.STRUCT) {
      const lenEl = sub.element(at);
      const fieldLength = sub.numbers(lenEl)[0];
      const namesEl = sub.element(lenEl.next);
      const fields: string[] = [];
      for (let o = 0; o + fieldLength <= namesEl.data.length; o += fieldLength) {
        const raw = namesEl.data.subarray(o, o + fieldLength);
        const end = raw.indexOf(0);
        fields.push(new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)));
      }
      at = namesEl.next;
      const items: Record<string, MatValue>[] = [];
      for (let i = 0; i < count; i++) {
        const record: Record<string, MatValue> = {};
        for (const field of fields) {
          const el = sub.element(at);
          record[field] = this.matrixElement(el).value;
          at = el.next;
        }
        items.push(record);
      }
      return { name, value: { kind: "struct", dims, fields, items } };
    }
    const dataEl = sub.element(at);
    if (cls === MX.CHAR) {
      let codes: number[];
      if (dataEl.type === MI.UTF8) {
        codes = [...new TextDecoder().decode(dataEl.data)].map((c) => c.codePointAt(0)!);
      } else codes = [...sub.numbers(dataEl)];
      const rows = dims[0] ?? 1;
      const cols = rows === 0 ? 0 : codes.length / rows;
      const lines: string[] = [];
      for (let r = 0; r < rows; r++) {
        let line = "";
        for (let c = 0; c < cols; c++) line += String.fromCodePoint(codes[c * rows + r]);
        lines.push(line);
      }
      return { name, value: { kind: "char", dims, text: lines.join("\n") } };
    }
    return { name, value: { kind: "numeric", dims, data: sub.numbers(dataEl) } };
  }

  matrixElement(el: Element): { name: string; value: MatValue } {
    if (el.type === MI.COMPRESSED) {
      const inflated = new Uint8Array(inflateSync(el.data));
      const inner = new Reader(inflated, this.little, this.file);
      return inner.matrixElement(inner.element(0));
    }
    if (el.type !== MI.MATRIX) this.fail(`expected a matrix element, got type ${el.type}`);
    return this.matrix(el.data);
  }

  fail(why: string): never {
    throw new Error(`${this.file}: not a readable MATLAB v5 MAT-file: ${why}`);
  }
}

/**
 * Reads every variable of a level-5 MAT-file. `file` names the source in
 * error messages.
 */
export function readMat(bytes: Uint8Array, file = "<bytes>"): Record<string, MatValue> {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (bytes.length < 128) throw new Error(`${file}: too short to be a MAT-file`);
  if (head.startsWith("MATLAB 7.3")) {
    throw new Error(
      `${file}: MAT-file v7.3 (HDF5) is not supported; re-save it in MATLAB/Octave with ` +
        `save('-v7', ...) or scipy.io.savemat`,
    );
  }
  if (!head.startsWith("MATLAB 5.0 MAT-file")) {
    throw new Error(`${file}: not a MATLAB level-5 MAT-file (header "${head.slice(0, 20)}")`);
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== "IM" && endian !== "MI") throw new Error(`${file}: bad endian indicator`);
  const reader = new Reader(bytes, endian === "IM", file);
  const out: Record<string, MatValue> = {};
  let at = 128;
  while (at + 8 <= bytes.length) {
    const el = reader.element(at);
    const { name, value } = reader.matrixElement(el);
    out[name] = value;
    at = el.next;
  }
  return out;
}
