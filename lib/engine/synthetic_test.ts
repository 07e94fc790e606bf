import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { loadDataset } from "../data/loaders/index.ts";
import { contactSheets, ensureSyntheticPreset } from "./synthetic.ts";

Deno.test("ensureSyntheticPreset: generates once, reuses the copy, and waits for a held lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-synth-" });
  try {
    const overrides = { trainIds: 4, testIds: 2, distractorImages: 1, junkImages: 1 };
    // Two callers at once: the lock makes the second wait and then reuse the first's copy.
    const [a, b] = await Promise.all([
      ensureSyntheticPreset("market1501", { root: dir, overrides }),
      ensureSyntheticPreset("market1501", { root: dir, overrides }),
    ]);
    assert.equal(a, join(dir, "market1501"));
    assert.equal(a, b);
    const dataset = loadDataset("market1501", a, { verbose: false });
    assert.equal(
      new Set(dataset.images.filter((i) => i.split === "train").map((i) => i.pid)).size,
      4,
    );
    const marker = await Deno.stat(join(a, "_synthetic_complete.json"));
    await ensureSyntheticPreset("market1501", { root: dir, overrides });
    assert.deepEqual((await Deno.stat(join(a, "_synthetic_complete.json"))).mtime, marker.mtime);
    // A live holder (this process, as far as the lock can tell) is waited for, then given up on.
    const lockPath = join(dir, ".market1501.lock");
    const owner = {
      pid: Deno.pid,
      host: Deno.hostname(),
      startedAt: new Date().toISOString(),
      processStart: null,
      purpose: "another run",
      token: "someone-else",
    };
    await Deno.writeTextFile(lockPath, JSON.stringify(owner));
    const lines: string[] = [];
    await assert.rejects(
      ensureSyntheticPreset("market1501", {
        root: dir,
        overrides,
        lockTimeoutMs: 300,
        log: (l) => lines.push(l),
      }),
      /held by pid \d+ .*\(another run\)/,
    );
    assert.match(lines.join("\n"), /waiting for .*\.market1501\.lock/);
    // What a killed first generation leaves (issue 12): a lock whose owner is gone. It is
    // broken with a note instead of being waited on for 30 minutes.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    await Deno.writeTextFile(lockPath, JSON.stringify({ ...owner, pid: dead.pid }));
    lines.length = 0;
    await ensureSyntheticPreset("market1501", {
      root: dir,
      overrides,
      lockTimeoutMs: 5_000,
      log: (l) => lines.push(l),
    });
    assert.match(lines.join("\n"), /breaking stale lock .*is gone/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("contactSheets: committed sheets are used, missing ones are rendered from tiny copies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reid-sheets-test-" });
  try {
    await Deno.writeFile(join(dir, "regdb.png"), new Uint8Array([1]));
    const sheets = await contactSheets(["regdb", "market1501"], { dir, scratch: join(dir, "s") });
    assert.equal(sheets.regdb, join(dir, "regdb.png"));
    const meta = await sharp(sheets.market1501).metadata();
    assert.equal(meta.height, 8 * 128 + 7 * 2, "8 people per sheet");
    await assert.rejects(contactSheets(["peta"], { dir }), /deno task data/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
