/**
 * The library's layering, checked on its import graph: every relative import of every
 * `lib/**\/*.ts` file is parsed, and the test fails on an import circle (tests included) or on
 * a module importing from a higher layer than its own, naming both files. The layers, lowest
 * first: runtime → data → nn → train → eval → engine / viz → experiments → papers → cli. Test files
 * may import upwards (a runtime kernel test runs the real backbones), so the layer rule skips
 * them; their imports still count for circles.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { REPO_ROOT } from "./runtime/paths.ts";

const LIB = join(REPO_ROOT, "lib");

/**
 * A folder's rank; engine and viz are peers. The experiment engine (specs, claims, the store,
 * the grid) sits below the papers that implement its contract; the command-line entry points
 * (`cli`) and the results page (`report`) sit above everything, as they know the registry of
 * papers.
 */
const LAYERS: Record<string, number> = {
  runtime: 0,
  data: 1,
  nn: 2,
  train: 3,
  eval: 4,
  engine: 5,
  viz: 5,
  experiments: 6,
  papers: 7,
  cli: 8,
  report: 8,
};

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

async function libFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && entry.name !== "testdata") await libFiles(path, out);
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** lib-relative path → the lib-relative paths it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const path of (await libFiles(LIB)).sort()) {
    const text = await Deno.readTextFile(path);
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const target = normalize(join(dirname(path), m[1] ?? m[2]));
      const rel = relative(LIB, target);
      if (!rel.startsWith("..")) targets.add(rel);
    }
    graph.set(relative(LIB, path), [...targets].sort());
  }
  return graph;
}

function layerOf(path: string): string {
  return path.split("/")[0];
}

Deno.test("lib imports: no lower layer imports a higher one", async () => {
  const graph = await importGraph();
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    if (from.endsWith("_test.ts")) continue;
    const lf = LAYERS[layerOf(from)];
    for (const to of targets) {
      const lt = LAYERS[layerOf(to)];
      if (lf === undefined || lt === undefined || layerOf(from) === layerOf(to)) continue;
      if (lt > lf) bad.push(`lib/${from} imports lib/${to}`);
    }
  }
  assert.deepEqual(bad, [], `imports against the layer order:\n${bad.join("\n")}`);
});

Deno.test("lib imports: every folder of lib has a layer", async () => {
  const folders: string[] = [];
  for await (const e of Deno.readDir(LIB)) if (e.isDirectory) folders.push(e.name);
  const unranked = folders.filter((f) => LAYERS[f] === undefined).sort();
  assert.deepEqual(unranked, [], "add these folders to LAYERS in lib/layers_test.ts");
});

Deno.test("lib imports: no import circles", async () => {
  const graph = await importGraph();
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const loop = [...stack.slice(stack.indexOf(next)), next].map((p) => `lib/${p}`);
        cycles.push(loop.join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  assert.deepEqual(cycles, [], `import circles:\n${cycles.join("\n")}`);
});
