/**
 * The one inter-process lock of the project (data generation, pretraining, anything two grid
 * workers might start at once). A lock is a small JSON file naming its owner — pid, host,
 * start time, what it is for — created atomically (written under a temporary name, then
 * hard-linked into place, which fails when the lock exists), so a lock never exists without
 * its owner's name in it.
 *
 * A lock is **stale**, and broken with a printed note, when
 * - its owner ran on this host and that process is gone (on Linux: `/proc/<pid>` missing or
 *   started at another time, i.e. the pid was reused), or
 * - its owner has not refreshed it for {@link DEFAULT_STALE_AFTER_MS} (10 min): a holder
 *   touches the file every {@link HEARTBEAT_MS} (15 s), so only a frozen or vanished holder
 *   (e.g. on another host sharing the folder) goes that long, or
 * - it holds no owner (an older version's lock folder, or a file cut short) and is older
 *   than {@link OWNERLESS_GRACE_MS}.
 *
 * A waiter prints what it waits for (path, owner, age) when it starts waiting and every 30 s,
 * and gives up after `timeoutMs` with an error naming the holder.
 *
 * @module
 */

/** Who holds a lock, as stored in the lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the lock was taken (ISO time). */
  startedAt: string;
  /** The owner process's start time as the kernel gives it (Linux), to detect reused pids. */
  processStart: string | null;
  /** What the lock is for, e.g. "generating market1501". */
  purpose: string;
  /** Random per acquisition, so a holder never refreshes or removes someone else's lock. */
  token: string;
}

/** A lock not refreshed for this long is stale (documented in the module doc). */
export const DEFAULT_STALE_AFTER_MS = 10 * 60_000;
/** How often a holder refreshes its lock's modification time. */
export const HEARTBEAT_MS = 15_000;
/** An ownerless lock (no readable owner) younger than this may still be being written. */
export const OWNERLESS_GRACE_MS = 10_000;

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Give up waiting after this long (default 30 min). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is broken (default {@link DEFAULT_STALE_AFTER_MS}). */
  staleAfterMs?: number;
  /** What the lock is for, stored in it and shown to waiters. */
  purpose?: string;
  /** Time between attempts (default 250 ms). */
  pollMs?: number;
  /** Where waiting and breaking notes go (default stderr). */
  log?: (line: string) => void;
}

/** A held lock. */
export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** Removes the lock (only if it is still ours) and stops refreshing it. */
  release(): Promise<void>;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown-host";
  }
}

/** The kernel's start time of process `pid` (field 22 of /proc/<pid>/stat), or null. */
function processStartOf(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether process `pid` on this host is still the one that took the lock: false when it is
 * gone or its pid now belongs to a process started later; true when it cannot be told
 * (no /proc: the age limit decides then).
 */
function ownerAlive(owner: LockOwner): boolean {
  if (Deno.build.os !== "linux") return true;
  let exists = true;
  try {
    Deno.statSync(`/proc/${owner.pid}`);
  } catch {
    exists = false;
  }
  if (!exists) return false;
  if (owner.processStart === null) return true;
  const now = processStartOf(owner.pid);
  return now === null || now === owner.processStart;
}

/** The owner recorded in lock `path`; null when there is no lock or it names no owner. */
export function readLockOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(Deno.readTextFileSync(path)) as LockOwner;
    return Number.isInteger(owner?.pid) && typeof owner.host === "string" ? owner : null;
  } catch {
    return null;
  }
}

interface LockState {
  exists: boolean;
  owner: LockOwner | null;
  /** Milliseconds since the lock was last refreshed. */
  ageMs: number;
  isDirectory: boolean;
}

function lockState(path: string): LockState {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return { exists: false, owner: null, ageMs: 0, isDirectory: false };
  }
  const ageMs = Date.now() - (info.mtime?.getTime() ?? Date.now());
  return {
    exists: true,
    owner: info.isFile ? readLockOwner(path) : null,
    ageMs,
    isDirectory: info.isDirectory,
  };
}

/** Why lock `state` is stale, or null when its holder may still be at work. */
function staleReason(state: LockState, staleAfterMs: number): string | null {
  const { owner, ageMs } = state;
  if (!owner) {
    return ageMs > OWNERLESS_GRACE_MS
      ? `it names no owner (${
        state.isDirectory ? "an older version's lock folder" : "empty or cut short"
      }) and is ${seconds(ageMs)} old`
      : null;
  }
  if (owner.host === hostName() && owner.pid !== Deno.pid && !ownerAlive(owner)) {
    return `its owner, pid ${owner.pid} on ${owner.host}, is gone`;
  }
  if (ageMs > staleAfterMs) {
    return `its owner, pid ${owner.pid} on ${owner.host}, has not refreshed it for ${
      seconds(ageMs)
    } (limit ${seconds(staleAfterMs)})`;
  }
  return null;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

function describeOwner(state: LockState): string {
  const o = state.owner;
  if (!o) return "no recorded owner";
  return `pid ${o.pid} on ${o.host}${o.purpose ? ` (${o.purpose})` : ""}, since ${o.startedAt}`;
}

/** Creates lock file `path` holding `owner`; false when a lock is already there. */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${owner.token.slice(0, 8)}.claim`;
  Deno.writeTextFileSync(tmp, JSON.stringify(owner) + "\n");
  try {
    // link(2) is atomic and refuses to replace an existing path: one process wins.
    Deno.linkSync(tmp, path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  } finally {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
  }
}

/** Removes a stale lock, unless it changed since it was judged (another waiter broke it). */
function breakLock(path: string, judged: LockState): void {
  const now = lockState(path);
  if (!now.exists || now.owner?.token !== judged.owner?.token) return;
  try {
    Deno.removeSync(path, { recursive: now.isDirectory });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Takes lock `path`, waiting (and saying so) while a live owner holds it and breaking it
 * (with a note) when it is stale; throws after `timeoutMs`, naming the holder.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const log = options.log ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const pollMs = options.pollMs ?? 250;
  const owner: LockOwner = {
    pid: Deno.pid,
    host: hostName(),
    startedAt: new Date().toISOString(),
    processStart: processStartOf(Deno.pid),
    purpose: options.purpose ?? "",
    token: crypto.randomUUID(),
  };
  const t0 = Date.now();
  let lastNote = -Infinity;
  for (;;) {
    if (tryCreate(path, owner)) break;
    const state = lockState(path);
    if (!state.exists) continue; // released between our attempt and the look
    const reason = staleReason(state, staleAfterMs);
    if (reason) {
      log(`[lock] breaking stale lock ${path}: ${reason}`);
      breakLock(path, state);
      continue;
    }
    const waited = Date.now() - t0;
    if (waited > timeoutMs) {
      throw new Error(
        `waited ${seconds(timeoutMs)} for lock ${path}, held by ${describeOwner(state)}; ` +
          "remove it if that process is no longer running",
      );
    }
    if (waited - lastNote >= 30_000) {
      log(`[lock] waiting for ${path}, held by ${describeOwner(state)}`);
      lastNote = waited;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const timer = setInterval(() => {
    if (readLockOwner(path)?.token !== owner.token) return clearInterval(timer);
    try {
      const now = new Date();
      Deno.utimeSync(path, now, now);
    } catch {
      clearInterval(timer);
    }
  }, HEARTBEAT_MS);
  // The refresh must not keep a finished process alive.
  Deno.unrefTimer(timer);
  return {
    path,
    owner,
    release: () => {
      clearInterval(timer);
      if (readLockOwner(path)?.token === owner.token) {
        try {
          Deno.removeSync(path);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      return Promise.resolve();
    },
  };
}

/** Runs `fn` holding lock `path` (see {@link acquireLock}); the lock is released after it. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
