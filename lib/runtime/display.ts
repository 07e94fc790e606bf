/**
 * Notebook display helpers (docs/design.md, 'Display').
 *
 * Inside `deno jupyter`'s kernel, `Deno.jupyter.broadcast` publishes Jupyter
 * `display_data` / `update_display_data` messages on the IOPub channel. Anywhere
 * else (`deno test`, `deno run`, a CLI) `Deno.jupyter` throws on access, so every
 * helper here checks {@link isNotebook} first and does nothing (or prints the
 * bundle's `text/plain` form when asked) instead of failing.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * A Jupyter MIME bundle: output data keyed by MIME type. Text types hold strings,
 * binary types (`image/png`) hold base64 strings, JSON types hold objects.
 */
export type MimeBundle = Record<string, unknown>;

/** Options of {@link display}. */
export interface DisplayOptions {
  /**
   * A display id: later calls with the same id and `update: true` replace this
   * output in place (Jupyter's `transient.display_id`).
   */
  displayId?: string;
  /** Replace the output shown earlier under `displayId` instead of adding one. */
  update?: boolean;
  /** Outside a kernel, print the bundle's `text/plain` form to stdout. */
  printOutside?: boolean;
  /** Per-MIME-type metadata (e.g. `{"image/png": {width: 600}}`). */
  metadata?: Record<string, unknown>;
}

/** The part of `Deno.jupyter` this module uses. */
interface JupyterBroadcast {
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/**
 * The kernel's `Deno.jupyter`, or null outside a kernel. Accessing the property
 * outside `deno jupyter` throws ("only available in `deno jupyter` subcommand"),
 * which is why this goes through try/catch rather than `"jupyter" in Deno`
 * (that test is true everywhere).
 */
function kernelJupyter(): JupyterBroadcast | null {
  try {
    const jupyter = (Deno as unknown as { jupyter?: Partial<JupyterBroadcast> }).jupyter;
    if (jupyter && typeof jupyter.broadcast === "function") return jupyter as JupyterBroadcast;
  } catch {
    // Not in a kernel.
  }
  return null;
}

/** True only inside `deno jupyter`'s kernel, where output can be broadcast. */
export function isNotebook(): boolean {
  return kernelJupyter() !== null;
}

/** The Jupyter message `display` sends for `bundle` (exposed for tests and other senders). */
export function displayMessage(
  bundle: MimeBundle,
  options: DisplayOptions = {},
): { msgType: "display_data" | "update_display_data"; content: Record<string, unknown> } {
  if (options.update && !options.displayId) {
    throw new Error("display: update: true needs a displayId (the output to replace)");
  }
  const content: Record<string, unknown> = {
    data: bundle,
    metadata: options.metadata ?? {},
    transient: options.displayId ? { display_id: options.displayId } : {},
  };
  return { msgType: options.update ? "update_display_data" : "display_data", content };
}

/**
 * Show `bundle` in the notebook. With `displayId`, the output can later be
 * replaced by calling again with the same id and `update: true` (live progress,
 * loss curves). Outside a kernel: nothing, or the `text/plain` form when
 * `printOutside` is set.
 *
 * @see notebooks/00_introduction.ipynb §1 (showing images in the notebook)
 */
export async function display(bundle: MimeBundle, options: DisplayOptions = {}): Promise<void> {
  const jupyter = kernelJupyter();
  if (jupyter) {
    // A displayable object (a figure, a table) is sent in the form it renders itself as
    // when it ends a cell, with the metadata it asks for (e.g. a PNG's CSS width).
    const own = bundle as Partial<Displayable> & { [DISPLAY_METADATA]?: Record<string, unknown> };
    const data = typeof own[JUPYTER_DISPLAY] === "function" ? await own[JUPYTER_DISPLAY]() : bundle;
    const metadata = { ...(own[DISPLAY_METADATA] ?? {}), ...(options.metadata ?? {}) };
    const { msgType, content } = displayMessage(data, { ...options, metadata });
    await jupyter.broadcast(msgType, content);
    // Deno's kernel (2.9) resolves broadcast before the message is on the wire,
    // and a cell that ends right after can publish its "idle" status first:
    // headless runners (nbclient) then drop the message. Measured: ~3% of final
    // updates lost with no wait, some with a 0 ms yield, none in 60 with 3-10 ms.
    await new Promise((resolve) => setTimeout(resolve, BROADCAST_SETTLE_MS));
    return;
  }
  if (options.printOutside) {
    const text = bundle["text/plain"];
    if (typeof text === "string") console.log(text);
  }
}

/** Wait after each broadcast so the message leaves the kernel before the cell ends. */
export const BROADCAST_SETTLE_MS = 10;

let displayCounter = 0;

/** A fresh display id, unique within this process. */
export function newDisplayId(prefix = "reid"): string {
  displayCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${displayCounter}`;
}

/**
 * One output area that is shown once and then updated in place: the first
 * {@link DisplayHandle.show} creates it, later calls replace it.
 */
export class DisplayHandle {
  /** The Jupyter display id of this output. */
  readonly id: string;
  #shown = false;

  /** A handle for a new output; `id` defaults to a fresh {@link newDisplayId}. */
  constructor(id: string = newDisplayId()) {
    this.id = id;
  }

  /** Whether the output has been created already. */
  get shown(): boolean {
    return this.#shown;
  }

  /** Create the output on the first call, replace it on the following ones. */
  async show(bundle: MimeBundle, options: Omit<DisplayOptions, "displayId" | "update"> = {}) {
    await display(bundle, { ...options, displayId: this.id, update: this.#shown });
    this.#shown = true;
  }
}

/**
 * Optional per-MIME metadata an object asks `display` to send with it (a figure's PNG
 * width, so a 1.5× PNG shows at the figure's size).
 */
export const DISPLAY_METADATA: unique symbol = Symbol.for("reid.display.metadata");

/**
 * Deno's kernel shows a cell's last expression through this symbol (its
 * `Deno.jupyter.$display` is `Symbol.for("Jupyter.display")`), so an object
 * carrying it renders itself when it ends a cell.
 */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/**
 * An object that renders as `bundle` when it is the last expression of a cell (the kernel
 * awaits a promise), or when passed to {@link display}.
 */
export interface Displayable {
  /** Called by the kernel to format the object. */
  [JUPYTER_DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** Attach `bundle` to `value` so the kernel renders it when `value` ends a cell. */
export function displayable<T extends object>(
  value: T,
  bundle: () => MimeBundle | Promise<MimeBundle>,
): T & Displayable {
  Object.defineProperty(value, JUPYTER_DISPLAY, { value: bundle, enumerable: false });
  return value as T & Displayable;
}

/** Base64 of bytes, as Jupyter wants binary MIME types (`image/png`). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** A MIME bundle holding a PNG image, with `alt` as its text form. */
export function pngBundle(png: Uint8Array, alt = "[image]"): MimeBundle {
  return { "image/png": toBase64(png), "text/plain": alt };
}
