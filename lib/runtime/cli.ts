/**
 * What the command lines (`deno task reproduce`, `deno task data`) share when they check their
 * flags before any work: the error type that means "print the usage and exit 2", and the
 * integer flags.
 *
 * @module
 */

/** A mistake on the command line: the caller prints it with the usage text and exits 2. */
export class UsageError extends Error {}

/** A positive integer from a flag's text, or a {@link UsageError} naming the flag. */
export function positiveInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  }
  return Number(text);
}

/** A non-negative integer from a flag's text (a seed), or a {@link UsageError}. */
export function nonNegativeInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} must be a non-negative integer, got "${text}"`);
  }
  return Number(text);
}
