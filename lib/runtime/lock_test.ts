import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, type LockOwner, readLockOwner, withLock } from "./lock.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "reid-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The pid of a process that has exited (so no live process has it, for a while). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

function fakeOwner(pid: number, extra: Partial<LockOwner> = {}): LockOwner {
  return {
    pid,
    host: Deno.hostname(),
    startedAt: new Date().toISOString(),
    processStart: null,
    purpose: "a test holder",
    token: crypto.randomUUID(),
    ...extra,
  };
}

Deno.test("a lock records its owner, is exclusive, and is removed on release", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "a.lock");
    const held = await acquireLock(path, { purpose: "testing" });
    const owner = readLockOwner(path);
    assert.equal(owner?.pid, Deno.pid);
    assert.equal(owner?.host, Deno.hostname());
    assert.equal(owner?.purpose, "testing");
    assert.ok(!Number.isNaN(Date.parse(owner!.startedAt)));
    const lines: string[] = [];
    // Our own pid is alive: a second taker waits, says for what, and times out naming us.
    await assert.rejects(
      acquireLock(path, { timeoutMs: 200, log: (l) => lines.push(l) }),
      new RegExp(`lock ${path}, held by pid ${Deno.pid} on .* \\(testing\\)`),
    );
    assert.match(lines.join("\n"), /\[lock\] waiting for .*a\.lock, held by pid \d+/);
    await held.release();
    assert.equal(readLockOwner(path), null);
    // Two takers at once: one runs at a time.
    const order: string[] = [];
    await Promise.all(["x", "y"].map((name) =>
      withLock(path, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}-`);
      }, { log: () => {} })
    ));
    assert.ok(order.join() === "x+,x-,y+,y-" || order.join() === "y+,y-,x+,x-", order.join());
  });
});

Deno.test("stale locks are broken with a note: dead owner, no refresh, no owner", async () => {
  await withDir(async (dir) => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    // What a killed run leaves: its owner's process is gone.
    const dead = join(dir, "dead.lock");
    Deno.writeTextFileSync(dead, JSON.stringify(fakeOwner(await deadPid())));
    await (await acquireLock(dead, { timeoutMs: 1000, log })).release();
    assert.match(
      lines.join("\n"),
      /breaking stale lock .*dead\.lock: its owner, pid \d+ .* is gone/,
    );

    // A live owner that stopped refreshing the lock (e.g. frozen, or on another host).
    const old = join(dir, "old.lock");
    Deno.writeTextFileSync(old, JSON.stringify(fakeOwner(Deno.pid, { host: "elsewhere" })));
    const past = new Date(Date.now() - 60_000);
    Deno.utimeSync(old, past, past);
    await (await acquireLock(old, { timeoutMs: 1000, staleAfterMs: 30_000, log })).release();
    assert.match(lines.join("\n"), /old\.lock: its owner, pid \d+ on elsewhere, has not refreshed/);

    // An older version's lock folder, left by a killed run.
    const folder = join(dir, "folder.lock");
    Deno.mkdirSync(folder);
    Deno.utimeSync(folder, past, past);
    await (await acquireLock(folder, { timeoutMs: 1000, log })).release();
    assert.match(
      lines.join("\n"),
      /folder\.lock: it names no owner \(an older version's lock folder\)/,
    );

    // A fresh ownerless lock may still be being written: waited for, not broken.
    const fresh = join(dir, "fresh.lock");
    Deno.mkdirSync(fresh);
    await assert.rejects(acquireLock(fresh, { timeoutMs: 100, log }), /held by no recorded owner/);
  });
});
