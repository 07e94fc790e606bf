/**
 * Training progress: a bar redrawn in place on an interactive terminal (stderr), a plain
 * line now and then when stderr is a pipe or a log file (grid workers), and a live output
 * updated in place in a notebook (a Jupyter display id). Updates are throttled so that
 * reporting never costs training time.
 *
 * @module
 */
import { DisplayHandle, isNotebook, type MimeBundle } from "../runtime/display.ts";
import type { LossHistory } from "./history.ts";

/** Where progress goes. `auto`: notebook in a kernel, else terminal or lines by stderr. */
export type ProgressSink = "auto" | "terminal" | "lines" | "notebook" | "silent";

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** The number of steps of the run (for the bar and the ETA). */
  total: number;
  /** A name printed before the bar. */
  label?: string;
  sink?: ProgressSink;
  /** Minimum time between two outputs; default 200 ms (terminal), 500 ms (notebook), 10 s (lines). */
  intervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Text output (tests); default writes to stderr. */
  write?: (text: string) => void;
  /** Notebook output (tests); default shows the bundle under one display id. */
  show?: (bundle: MimeBundle) => Promise<void>;
}

const BAR_WIDTH = 24;

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(4);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** A throttled progress reporter for one training run. */
export class Progress {
  readonly total: number;
  readonly label: string;
  readonly sink: Exclude<ProgressSink, "auto">;
  #interval: number;
  #now: () => number;
  #write: (text: string) => void;
  #show: (bundle: MimeBundle) => Promise<void>;
  #start: number;
  #lastOutput = -Infinity;
  #step = 0;
  #values: Record<string, number> = {};
  #pending: Promise<void> = Promise.resolve();
  #finished = false;

  constructor(options: ProgressOptions) {
    if (!(options.total > 0)) throw new Error(`Progress: total must be > 0, got ${options.total}`);
    this.total = options.total;
    this.label = options.label ?? "train";
    const sink = options.sink ?? "auto";
    this.sink = sink !== "auto"
      ? sink
      : isNotebook()
      ? "notebook"
      : stderrIsTerminal()
      ? "terminal"
      : "lines";
    this.#interval = options.intervalMs ??
      (this.sink === "terminal" ? 200 : this.sink === "notebook" ? 500 : 10_000);
    this.#now = options.now ?? (() => performance.now());
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    const handle = new DisplayHandle();
    this.#show = options.show ?? ((bundle) => handle.show(bundle));
    this.#start = this.#now();
  }

  /** The current status line (also the notebook's text/plain form). */
  line(): string {
    const fraction = Math.min(1, this.#step / this.total);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#step / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.#step) / rate : NaN;
    const values = Object.entries(this.#values).map(([k, v]) => `${k} ${formatValue(v)}`);
    const timing = this.#finished
      ? `${formatDuration(elapsed)} total`
      : `${rate >= 1 ? rate.toFixed(1) + " it/s" : (1 / rate).toFixed(2) + " s/it"} ETA ${
        formatDuration(eta)
      }`;
    return [
      `${this.label} [${bar}] ${this.#step}/${this.total} ${Math.floor(fraction * 100)}%`,
      ...values,
      rate > 0 ? timing : "",
    ].filter((s) => s !== "").join(" · ");
  }

  /** Reports that `step` steps are done, with the latest values; output is throttled. */
  update(step: number, values: Record<string, number> = {}): void {
    this.#step = step;
    Object.assign(this.#values, values);
    const t = this.#now();
    if (t - this.#lastOutput < this.#interval) return;
    this.#lastOutput = t;
    this.#emit(false);
  }

  /** Prints the final state (always) and ends the terminal line; awaits notebook output. */
  async done(values: Record<string, number> = {}): Promise<void> {
    Object.assign(this.#values, values);
    this.#finished = true;
    this.#emit(true);
    await this.#pending;
  }

  /** Follows a history: each record updates the progress with the step's values. */
  follow(history: LossHistory): () => void {
    return history.onRecord((step, values) => this.update(step + 1, values));
  }

  #emit(final: boolean): void {
    const text = this.line();
    switch (this.sink) {
      case "silent":
        return;
      case "terminal":
        this.#write(`\r\x1b[2K${text}${final ? "\n" : ""}`);
        return;
      case "lines":
        this.#write(`${text}\n`);
        return;
      case "notebook": {
        const pct = Math.min(100, (100 * this.#step) / this.total);
        const bundle: MimeBundle = {
          "text/plain": text,
          "text/html": `<div><progress value="${pct.toFixed(1)}" max="100" style="width:16em">` +
            `</progress> <code>${escapeHtml(text)}</code></div>`,
        };
        // Chained so that updates reach the kernel in order.
        this.#pending = this.#pending.then(() => this.#show(bundle)).catch(() => {});
        return;
      }
    }
  }
}
