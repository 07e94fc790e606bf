/**
 * Memory accounting for training runs: peaks of the process (resident set, V8 heap) and of
 * tfjs (bytes and live tensors on the backend), and the per-epoch tensor-count guard that
 * makes a slow leak fail loudly instead of slowly filling the machine.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Peaks seen by a {@link MemoryMonitor}. */
export interface MemoryPeaks {
  /** Largest resident set size of the process (`Deno.memoryUsage().rss`), bytes. */
  peakRssBytes: number;
  /** Largest V8 heap in use, bytes. */
  peakHeapBytes: number;
  /** Largest `tf.memory().numBytes` (tensor data on the backend), bytes. */
  peakTfBytes: number;
  /** Largest `tf.memory().numTensors`. */
  peakTfTensors: number;
}

/**
 * Samples process and tfjs memory on demand ({@link MemoryMonitor.sample}, e.g. after each
 * training step) and on a timer, keeping the maxima.
 */
export class MemoryMonitor {
  #peaks: MemoryPeaks = { peakRssBytes: 0, peakHeapBytes: 0, peakTfBytes: 0, peakTfTensors: 0 };
  #timer: ReturnType<typeof setInterval> | null;

  /** Starts sampling every `intervalMs` (0: only on demand). */
  constructor(intervalMs = 500) {
    this.sample();
    this.#timer = intervalMs > 0 ? setInterval(() => this.sample(), intervalMs) : null;
    // The timer must never keep a finished process (or a test) alive.
    if (this.#timer !== null) Deno.unrefTimer(this.#timer);
  }

  /** Takes one sample now. */
  sample(): void {
    const m = Deno.memoryUsage();
    const t = tf.memory();
    const p = this.#peaks;
    p.peakRssBytes = Math.max(p.peakRssBytes, m.rss);
    p.peakHeapBytes = Math.max(p.peakHeapBytes, m.heapUsed);
    p.peakTfBytes = Math.max(p.peakTfBytes, t.numBytes);
    p.peakTfTensors = Math.max(p.peakTfTensors, t.numTensors);
  }

  /** The peaks so far (a copy). */
  get peaks(): MemoryPeaks {
    return { ...this.#peaks };
  }

  /** Stops the timer and returns the final peaks. */
  stop(): MemoryPeaks {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.sample();
    return this.peaks;
  }
}

/** `412 MB` style text of a byte count. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "?";
  const units = ["B", "kB", "MB", "GB"];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** One line summarising peaks: `peak RSS 412 MB, heap 80 MB, tf 85 MB in ≤ 310 tensors`. */
export function formatPeaks(p: MemoryPeaks): string {
  return `peak RSS ${formatBytes(p.peakRssBytes)}, heap ${formatBytes(p.peakHeapBytes)}, ` +
    `tf ${formatBytes(p.peakTfBytes)} in ≤ ${p.peakTfTensors} tensors`;
}

/**
 * The per-epoch leak guard: the live tensor count at the end of the first epoch is the
 * reference (optimizer slots exist by then); any later epoch ending with more live tensors
 * throws, naming the counts. `slack` tolerates known one-off allocations (default 0).
 */
export class TensorCountGuard {
  /** Live tensor counts at the end of each epoch so far. */
  readonly counts: number[] = [];
  readonly #label: string;
  readonly #slack: number;

  constructor(label = "training", slack = 0) {
    this.#label = label;
    this.#slack = slack;
  }

  /** Records the count after epoch `this.counts.length`; throws when it grew past the first. */
  endEpoch(count: number = tf.memory().numTensors): void {
    this.counts.push(count);
    const first = this.counts[0];
    if (this.counts.length > 1 && count > first + this.#slack) {
      throw new Error(
        `${this.#label} leaks tensors: ${first} live after epoch 1, ${count} after epoch ` +
          `${this.counts.length} (per epoch: ${this.counts.join(", ")}); every step must ` +
          "dispose what it makes (tf.tidy)",
      );
    }
  }

  /** True when every epoch ended with the same count as the first. */
  get flat(): boolean {
    return this.counts.every((c) => c === this.counts[0]);
  }
}
