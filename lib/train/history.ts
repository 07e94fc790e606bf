/**
 * A loss-history recorder: named series of (step, value) points, smoothing, thinning for
 * storage, and a JSON form that round-trips (non-finite values are stored as null so that
 * a diverging run still serialises).
 *
 * @module
 */

/** One named series. */
export interface Series {
  steps: number[];
  values: number[];
}

/** The JSON form of a {@link LossHistory}. */
export interface HistoryJSON {
  series: Record<string, { steps: number[]; values: (number | null)[] }>;
}

/** Called after each {@link LossHistory.record}. */
export type RecordListener = (step: number, values: Readonly<Record<string, number>>) => void;

/** Records named loss (or any scalar) series per training step. */
export class LossHistory {
  #series = new Map<string, Series>();
  #listeners: RecordListener[] = [];

  /**
   * Records the values of one step. A series is created on first use; steps within a
   * series must not decrease (a resumed run continues from where it stopped).
   */
  record(step: number, values: Record<string, number | null | undefined>): void {
    if (!Number.isFinite(step)) throw new Error(`LossHistory.record: bad step ${step}`);
    const recorded: Record<string, number> = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined) continue;
      let s = this.#series.get(name);
      if (!s) {
        s = { steps: [], values: [] };
        this.#series.set(name, s);
      }
      const last = s.steps[s.steps.length - 1];
      if (last !== undefined && step < last) {
        throw new Error(
          `LossHistory.record: series "${name}" went back from step ${last} to ${step}`,
        );
      }
      s.steps.push(step);
      s.values.push(value);
      recorded[name] = value;
    }
    for (const listener of this.#listeners) listener(step, recorded);
  }

  /** Registers a listener called after every record (e.g. progress output). */
  onRecord(listener: RecordListener): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Names of the recorded series, in order of first appearance. */
  names(): string[] {
    return [...this.#series.keys()];
  }

  /** A copy of one series (empty if never recorded). */
  series(name: string): Series {
    const s = this.#series.get(name);
    return { steps: s ? [...s.steps] : [], values: s ? [...s.values] : [] };
  }

  /** The last value of a series, or undefined. */
  last(name: string): number | undefined {
    const s = this.#series.get(name);
    return s?.values[s.values.length - 1];
  }

  /** Mean of the last `n` values of a series (NaN if empty). */
  recentMean(name: string, n: number): number {
    const values = this.#series.get(name)?.values ?? [];
    const tail = values.slice(-Math.max(1, n));
    return tail.length === 0 ? NaN : tail.reduce((a, b) => a + b, 0) / tail.length;
  }

  /** The series smoothed by a debiased exponential moving average (see {@link smooth}). */
  smoothed(name: string, weight = 0.9): Series {
    const s = this.series(name);
    return { steps: s.steps, values: smooth(s.values, weight) };
  }

  /**
   * A copy with each series reduced to at most `maxPoints` points by averaging
   * consecutive bins (each bin's step is its last step); for compact result files.
   */
  thinned(maxPoints: number): LossHistory {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new Error(
        `LossHistory.thinned: maxPoints must be a positive integer, got ${maxPoints}`,
      );
    }
    const out = new LossHistory();
    for (const [name, s] of this.#series) {
      const n = s.steps.length;
      const bin = Math.max(1, Math.ceil(n / maxPoints));
      const steps: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < n; i += bin) {
        const end = Math.min(n, i + bin);
        let sum = 0;
        for (let j = i; j < end; j++) sum += s.values[j];
        steps.push(s.steps[end - 1]);
        values.push(sum / (end - i));
      }
      out.#series.set(name, { steps, values });
    }
    return out;
  }

  /** The JSON form (non-finite values become null). */
  toJSON(): HistoryJSON {
    const series: HistoryJSON["series"] = {};
    for (const [name, s] of this.#series) {
      series[name] = {
        steps: [...s.steps],
        values: s.values.map((v) => (Number.isFinite(v) ? v : null)),
      };
    }
    return { series };
  }

  /** Rebuilds a history from {@link LossHistory.toJSON}'s output (null becomes NaN). */
  static fromJSON(json: HistoryJSON, source = "history"): LossHistory {
    const out = new LossHistory();
    if (!json || typeof json !== "object" || typeof json.series !== "object") {
      throw new Error(`${source}: expected {"series": {...}}`);
    }
    for (const [name, s] of Object.entries(json.series)) {
      if (
        !Array.isArray(s?.steps) || !Array.isArray(s?.values) || s.steps.length !== s.values.length
      ) {
        throw new Error(`${source}: series "${name}" needs steps and values of equal length`);
      }
      out.#series.set(name, {
        steps: s.steps.map(Number),
        values: s.values.map((v) => (v === null ? NaN : Number(v))),
      });
    }
    return out;
  }
}

/**
 * Exponential moving average with the start-up bias removed (as TensorBoard does), so the
 * first smoothed points are not pulled towards zero: `m ← w·m + (1−w)·x`, output
 * `m / (1 − w^k)`. Non-finite inputs are passed through without updating the average.
 */
export function smooth(values: readonly number[], weight = 0.9): number[] {
  if (!(weight >= 0 && weight < 1)) {
    throw new Error(`smooth: weight must be in [0, 1), got ${weight}`);
  }
  const out: number[] = [];
  let m = 0;
  let k = 0;
  for (const x of values) {
    if (!Number.isFinite(x)) {
      out.push(x);
      continue;
    }
    m = weight * m + (1 - weight) * x;
    k++;
    out.push(m / (1 - weight ** k));
  }
  return out;
}
