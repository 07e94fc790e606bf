/**
 * Quick mode: one environment variable, `REID_QUICK=1`, that notebooks and CLIs
 * read to shrink their work (few steps, tiny data) so headless notebook tests
 * finish fast. Set by the notebook test harness; unset means full runs.
 *
 * @module
 */

import { readEnv } from "./env.ts";

/** The environment variable that turns quick mode on. */
export const QUICK_ENV = "REID_QUICK";

/**
 * True when `REID_QUICK` is set to `1`, `true` or `yes`. Without permission to
 * read the environment the answer is false (a full run), never an exception.
 */
export function isQuick(): boolean {
  const value = readEnv(QUICK_ENV);
  return value !== undefined && ["1", "true", "yes"].includes(value.trim().toLowerCase());
}

/** `quick` in quick mode, `full` otherwise: `const steps = quickOr(5, 2000)`. */
export function quickOr<T>(quick: T, full: T): T {
  return isQuick() ? quick : full;
}
