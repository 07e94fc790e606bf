/**
 * Small file-system helpers shared by the stores (results, checkpoints, pretrained weights,
 * split files, pixel caches): existence checks and the one atomic writer of the project.
 *
 * @module
 */

/** Whether `path` exists; errors other than "not found" (e.g. permissions) are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : i === 0 ? "/" : path.slice(0, i);
}

function tempPathOf(path: string): string {
  // Same folder (a rename across file systems is not atomic); pid and a random part so that
  // two processes writing the same file never share a temporary file.
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Writes `data` to `path` through a temporary file in the same folder and a rename, so a
 * reader (or a run killed mid-write) sees either the old file or the new one, never half of
 * one. Creates the folder when missing; the temporary file is removed when writing fails.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirOf(path);
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = tempPathOf(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * {@link writeFileAtomic} for synchronous callers (the dataset loaders and the pixel cache);
 * `data` may be a list of chunks, written in order, so a large buffer needs no joined copy.
 */
export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
): void {
  const dir = dirOf(path);
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  const tmp = tempPathOf(path);
  try {
    if (typeof data === "string") Deno.writeTextFileSync(tmp, data);
    else if (data instanceof Uint8Array) Deno.writeFileSync(tmp, data);
    else {
      const file = Deno.openSync(tmp, { write: true, createNew: true });
      try {
        for (const chunk of data) {
          let written = 0;
          while (written < chunk.length) written += file.writeSync(chunk.subarray(written));
        }
      } finally {
        file.close();
      }
    }
    Deno.renameSync(tmp, path);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
    throw error;
  }
}

/**
 * Throws, naming the folder and the cause, unless files can be created in `dir` (created
 * when missing): checked before a long run, so a read-only results folder is found before
 * anything trains rather than after.
 */
export async function ensureWritableDir(dir: string, what = "folder"): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.write-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new Error(`${what} ${dir} is not writable (${(error as Error).message})`);
  }
}
