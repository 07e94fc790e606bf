/**
 * The one way the library reads its environment variables (`REID_BACKEND`, `REID_KERNELS`,
 * `REID_THREADS`, `REID_QUICK`, …).
 *
 * @module
 */

/** The variable's value, or undefined when unset or when `--allow-env` was not granted. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}
