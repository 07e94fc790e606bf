/**
 * No code in lib/, tests/ or a notebook's code cells reads a tensor back synchronously.
 * Under Deno's WebGPU the webgpu backend's synchronous readback goes through a canvas
 * that Deno lacks and throws, so `await t.data()` / `await t.array()` are the only
 * readbacks that work on every backend (docs/design.md, 'Backends'). Comments are not code and
 * are not searched.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { REPO_ROOT as ROOT } from "./paths.ts";

// Built from parts so that this file does not match itself.
const CALL = new RegExp(
  `\\.(${["data", "read", "array"].map((n) => `${n}Sync`).join("|")})\\s*\\(`,
);

/** Source lines with comments blanked (line numbers kept). */
function codeLines(source: string): string[] {
  const blanked = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  return blanked.split("\n").map((line) => line.replace(/(^|[^:"'`\\])\/\/.*$/, "$1"));
}

/** Every `file:line: text` whose code calls a synchronous readback. */
export function findSyncReadbacks(name: string, source: string): string[] {
  return codeLines(source).flatMap((line, i) =>
    CALL.test(line) ? [`${name}:${i + 1}: ${line.trim()}`] : []
  );
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

/** The .ts files under lib/ and tests/, and each notebook's code cells as one text per cell. */
async function sources(): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  for (const folder of ["lib", "tests"]) {
    for await (const path of walk(join(ROOT, folder))) {
      if (path.endsWith(".ts")) {
        out.push({ name: relative(ROOT, path), text: await Deno.readTextFile(path) });
      }
    }
  }
  for await (const path of walk(join(ROOT, "notebooks"))) {
    if (!path.endsWith(".ipynb")) continue;
    const notebook = JSON.parse(await Deno.readTextFile(path));
    (notebook.cells as { cell_type: string; source: string | string[] }[]).forEach((cell, i) => {
      if (cell.cell_type !== "code") return;
      const text = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      out.push({ name: `${relative(ROOT, path)} cell ${i}`, text });
    });
  }
  return out;
}

Deno.test("the search finds a readback in code and skips comments", () => {
  const call = ["x.", "data", "Sync()"].join("");
  const text = [
    `const a = ${call};`,
    `// ${call} in a line comment`,
    `/* ${call}`,
    `   still a comment */ const b = 1;`,
    `const url = "https://example"; t.${"array"}Sync ();`,
  ].join("\n");
  assert.deepEqual(
    findSyncReadbacks("f.ts", text).map((hit) => hit.split(": ")[0]),
    ["f.ts:1", "f.ts:5"],
  );
});

Deno.test("no synchronous tensor readback in lib/, tests/ or the notebooks' code", async () => {
  const hits: string[] = [];
  const all = await sources();
  assert.ok(all.some((s) => s.name.includes(".ipynb cell")), "no notebook code cell was read");
  for (const { name, text } of all) {
    hits.push(...findSyncReadbacks(name, text));
  }
  assert.deepEqual(
    hits,
    [],
    `synchronous readbacks (they throw on webgpu; use await t.data() / t.array()):\n` +
      hits.join("\n"),
  );
});
