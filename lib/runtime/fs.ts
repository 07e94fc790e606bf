/**
 * Small file-system helpers shared by the stores (checkpoints, pretrained weights).
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
