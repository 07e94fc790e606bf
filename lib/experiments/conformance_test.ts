/**
 * Every registered paper against the experiment contract: each row resolves at each scale, in
 * quick and full mode; `needs` names real rows; one quick cell trains end to end without leaking
 * tensors; and every claim's lookups, and every row's paper numbers, name rows and metrics that
 * exist. A misspelt row or metric in a claim would otherwise read as "no data" in the verdicts.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { PAPERS } from "../papers/registry.ts";
import { initBackend } from "../runtime/backend.ts";
import { runCellAndStore } from "./cell.ts";
import { resolveConfig } from "./config.ts";
import { type PaperSpec, SCALES } from "./spec.ts";

await initBackend({ announce: false });

async function load(module: string): Promise<PaperSpec> {
  return (await import(module)).spec as PaperSpec;
}

for (const entry of PAPERS) {
  Deno.test(`${entry.name}: every row resolves at every scale, quick and full; needs are rows`, async () => {
    const spec = await load(entry.module);
    assert.equal(spec.paper, entry.name, "the spec's paper name is its registry name");
    const ids = spec.rows.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate row ids: ${ids.join(", ")}`);
    for (const row of spec.rows) {
      assert.match(row.id, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, `row id "${row.id}" is not folder-safe`);
      for (const need of row.needs ?? []) {
        assert.ok(ids.includes(need), `row ${row.id} needs "${need}", which is no row`);
      }
      for (const scale of row.scales ?? SCALES) {
        for (const quick of [false, true]) {
          const { hash } = await resolveConfig(spec, scale, row.id, { quick });
          assert.match(hash, /^[0-9a-f]{16,}$/, `${row.id}/${scale}/quick=${quick}`);
        }
      }
    }
  });

  Deno.test(`${entry.name}: quick cells train without leaking; claims and paper numbers name real rows and metrics`, async () => {
    const spec = await load(entry.module);
    const dir = await Deno.makeTempDir({ prefix: `reid-conformance-${entry.name}-` });
    try {
      // The rows the claims read (a first pass records them), each trained once in quick mode.
      const ids = new Set(spec.rows.map((r) => r.id));
      const read = new Set<string>([spec.rows[0].id]);
      for (const claim of spec.claims) {
        for (const part of claim.parts) {
          part.value((row) => (ids.has(row) && read.add(row), 1));
        }
      }
      const metricsOf = new Map<string, Record<string, number>>();
      for (const row of read) {
        const before = tf.memory().numTensors;
        const outcome = await runCellAndStore(
          spec,
          { paper: spec.paper, scale: "cpu", row, seed: 0, quick: true },
          { results: `${dir}/results`, work: `${dir}/work` },
          { force: true, log: () => {} },
        );
        assert.equal(tf.memory().numTensors, before, `the ${row} cell left tensors behind`);
        const metrics = outcome.result!.metrics;
        assert.ok(Object.keys(metrics).length > 0, `the ${row} cell reported no metrics`);
        metricsOf.set(row, metrics);
      }
      const problems: string[] = [];
      const lookup = (row: string, metric: string): number => {
        if (!ids.has(row)) throw new Error(`unknown row "${row}"`);
        const metrics = metricsOf.get(row)!;
        if (!(metric in metrics)) {
          throw new Error(`row ${row} has no metric "${metric}" (it has ${Object.keys(metrics)})`);
        }
        return metrics[metric];
      };
      for (const claim of spec.claims) {
        for (const part of claim.parts) {
          try {
            const value = part.value(lookup);
            if (typeof value !== "number") problems.push(`${claim.id} "${part.label}": no number`);
          } catch (error) {
            problems.push(`${claim.id} "${part.label}": ${(error as Error).message}`);
          }
        }
      }
      const names = new Set([...metricsOf.values()].flatMap((m) => Object.keys(m)));
      for (const r of spec.rows) {
        for (const metric of Object.keys(r.paper ?? {})) {
          if (!names.has(metric)) {
            problems.push(`row ${r.id}: paper number for unknown metric "${metric}"`);
          }
        }
      }
      assert.deepEqual(problems, [], `known metrics: ${[...names].join(", ")}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
