/**
 * Stopping a diverged training run before it turns into a plausible-looking result: a
 * {@link FiniteGuard} watches the losses of every step and throws
 * {@link NonFiniteLossError} — naming the loss, the step and the last finite values — on
 * NaN / ±Infinity, or on an explosion: a loss whose magnitude exceeds
 * {@link DEFAULT_EXPLOSION_FACTOR} (10⁶) times the magnitude of its first finite value
 * (floored at `minScale`, so a loss that starts at 0 does not trip on its first rise).
 *
 * @module
 */

/** A loss exceeding this multiple of its first finite magnitude counts as exploded. */
export const DEFAULT_EXPLOSION_FACTOR = 1e6;

/** A training loss became non-finite or exploded. */
export class NonFiniteLossError extends Error {
  /** The loss that went wrong. */
  readonly loss: string;
  /** The step at which it did. */
  readonly step: number;
  /** The offending value (NaN, ±Infinity, or the exploded value). */
  readonly value: number;
  /** "non-finite" or "exploded". */
  readonly kind: "non-finite" | "exploded";
  /** The last step at which every loss was finite, and those values; null when none was. */
  readonly lastFinite: { step: number; losses: Record<string, number> } | null;

  constructor(
    loss: string,
    step: number,
    value: number,
    kind: "non-finite" | "exploded",
    lastFinite: { step: number; losses: Record<string, number> } | null,
    detail = "",
  ) {
    const last = lastFinite
      ? `last finite values at step ${lastFinite.step}: ${
        Object.entries(lastFinite.losses).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(", ")
      }`
      : "no step had finite losses before";
    super(
      `training diverged: loss "${loss}" is ${value} at step ${step}` +
        `${detail ? ` (${detail})` : ""}; ${last}`,
    );
    this.name = "NonFiniteLossError";
    this.loss = loss;
    this.step = step;
    this.value = value;
    this.kind = kind;
    this.lastFinite = lastFinite;
  }
}

/** Options of {@link FiniteGuard}. */
export interface FiniteGuardOptions {
  /** Explosion threshold as a multiple of the first finite magnitude (default 10⁶). */
  explosionFactor?: number;
  /** The smallest first magnitude the threshold is scaled from (default 1). */
  minScale?: number;
}

/** Watches per-step losses; see the module documentation. */
export class FiniteGuard {
  readonly #factor: number;
  readonly #minScale: number;
  readonly #first = new Map<string, number>();
  #lastFinite: { step: number; losses: Record<string, number> } | null = null;

  constructor(options: FiniteGuardOptions = {}) {
    this.#factor = options.explosionFactor ?? DEFAULT_EXPLOSION_FACTOR;
    this.#minScale = options.minScale ?? 1;
    if (!(this.#factor > 1)) {
      throw new Error(`FiniteGuard: explosionFactor must exceed 1, got ${this.#factor}`);
    }
  }

  /** The last step at which every checked loss was finite, with its values. */
  get lastFinite(): { step: number; losses: Record<string, number> } | null {
    return this.#lastFinite;
  }

  /**
   * Checks one step's losses; throws {@link NonFiniteLossError} for the first non-finite
   * or exploded one. Values that are `null` or `undefined` (a loss not computed this step)
   * are skipped.
   */
  check(step: number, losses: Readonly<Record<string, number | null | undefined>>): void {
    const ok: Record<string, number> = {};
    for (const [name, value] of Object.entries(losses)) {
      if (value === undefined || value === null) continue;
      if (!Number.isFinite(value)) {
        throw new NonFiniteLossError(name, step, value, "non-finite", this.#lastFinite);
      }
      const first = this.#first.get(name);
      if (first === undefined) this.#first.set(name, Math.abs(value));
      else {
        const limit = this.#factor * Math.max(first, this.#minScale);
        if (Math.abs(value) > limit) {
          throw new NonFiniteLossError(
            name,
            step,
            value,
            "exploded",
            this.#lastFinite,
            `more than ${this.#factor.toExponential(0)} × its first value ${first.toPrecision(4)}`,
          );
        }
      }
      ok[name] = value;
    }
    this.#lastFinite = { step, losses: ok };
  }
}
