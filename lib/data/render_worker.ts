/**
 * Deno Worker that renders one shard of a preset's images. It re-plans the
 * dataset from (preset, config, seed) — plans are pure and cheap — so only a
 * few numbers cross the message channel.
 *
 * @module
 */
import sharp from "sharp";
import { planPreset, renderShard } from "./writers/mod.ts";
import type { PresetConfigs, PresetName } from "./world/presets.ts";

/** A render request to a worker. */
export interface ShardRequest {
  preset: PresetName;
  config: PresetConfigs[PresetName];
  seed: number;
  releaseRoot: string;
  shard: number;
  shards: number;
}

/** A worker's answer. */
export type ShardReply = { ok: true; count: number } | { ok: false; error: string };

// Each worker owns one core; libvips threads on top of that only contend.
sharp.concurrency(1);

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ShardRequest>) => void) | null;
  postMessage(m: ShardReply): void;
};

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    const plan = planPreset(r.preset, r.config, r.seed);
    const count = await renderShard(plan.jobs, r.releaseRoot, r.shard, r.shards, 4);
    scope.postMessage({ ok: true, count });
  } catch (err) {
    scope.postMessage({
      ok: false,
      error: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};
