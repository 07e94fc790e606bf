/**
 * Opens a page in headless Chromium (Debian's `chromium`) with the network cut off and reads
 * back, through the DevTools protocol, what a reader would see: how many Plotly figures drew
 * their SVG layers, how much math KaTeX typeset (and whether raw `$…$` is left), every request
 * the page tried to make beyond the file itself, and a screenshot.
 *
 * @module
 */

/** The browser binary: `REID_CHROMIUM`, else Debian's `chromium`. */
export function chromiumExecutable(): string {
  return Deno.env.get("REID_CHROMIUM") ?? "chromium";
}

/** What {@link inspectPage} saw. */
export interface PageInspection {
  /** `.reid-plotly` boxes, and how many of them hold a drawn Plotly SVG (`.main-svg`). */
  plots: number;
  plotsDrawn: number;
  plotErrors: string[];
  /** KaTeX-rendered formulas and KaTeX error marks. */
  math: number;
  mathErrors: number;
  /** Text nodes outside code that still look like unrendered `$…$` math. */
  rawMath: string[];
  /** Requests to anything but the page's own file: and data: URLs. */
  requests: string[];
  /** Images (not counting drawn figures' fallbacks) that failed to decode. */
  brokenImages: number;
  /** A full-page PNG screenshot. */
  screenshot: Uint8Array;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** A minimal DevTools protocol client over one WebSocket. */
class Cdp {
  #ws: WebSocket;
  #next = 1;
  #waiting = new Map<number, (m: CdpMessage) => void>();
  readonly events: CdpMessage[] = [];
  #listeners: ((m: CdpMessage) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data as string) as CdpMessage;
      if (msg.id !== undefined) {
        this.#waiting.get(msg.id)?.(msg);
        this.#waiting.delete(msg.id);
      } else {
        this.events.push(msg);
        for (const l of this.#listeners) l(msg);
      }
    };
  }

  static open(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = (e) => reject(new Error(`DevTools socket ${url}: ${(e as ErrorEvent).message}`));
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (m) => {
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      });
    });
  }

  waitFor(method: string, timeoutMs: number): Promise<void> {
    if (this.events.some((e) => e.method === method)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${method} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#listeners.push((m) => {
        if (m.method === method) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  close() {
    this.#ws.close();
  }
}

/** Reads "DevTools listening on ws://…" from the browser's stderr. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) {
      // Keep draining stderr so the browser never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return m[1];
    }
  }
  throw new Error(
    `${chromiumExecutable()} did not start its DevTools server:\n${text.slice(-2000)}`,
  );
}

const PROBE = `(() => {
  const boxes = [...document.querySelectorAll(".reid-plotly")];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest("code, pre, script, style, .katex, textarea")) continue;
    const m = n.textContent.match(/\\$[^$\\s][^$]*\\\\[a-zA-Z]+[^$]*\\$/);
    if (m) raw.push(m[0].slice(0, 80));
  }
  const imgs = [...document.images].filter((i) => !i.classList.contains("reid-fallback"));
  return JSON.stringify({
    ready: document.body.getAttribute("data-plots") === "drawn" &&
      document.body.getAttribute("data-math") === "typeset",
    plots: boxes.length,
    plotsDrawn: boxes.filter((b) => b.querySelector("svg.main-svg")).length,
    plotErrors: boxes.map((b) => b.getAttribute("data-error")).filter(Boolean),
    math: document.querySelectorAll(".katex").length,
    mathErrors: document.querySelectorAll(".katex-error").length,
    rawMath: raw.slice(0, 10),
    brokenImages: imgs.filter((i) => i.complete && i.naturalWidth === 0).length,
  });
})()`;

/**
 * Loads `file` (an absolute path) in headless Chromium with every host unresolvable and a dead
 * proxy, waits until its figures and math report done (or `timeoutMs`), and inspects it.
 */
export async function inspectPage(
  file: string,
  options: { timeoutMs?: number; width?: number } = {},
): Promise<PageInspection> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const profile = await Deno.makeTempDir({ prefix: "reid-chromium-" });
  const child = new Deno.Command(chromiumExecutable(), {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--metrics-recording-only",
      "--proxy-server=127.0.0.1:9",
      "--host-resolver-rules=MAP * ~NOTFOUND",
      `--user-data-dir=${profile}`,
      `--window-size=${options.width ?? 1280},1000`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let cdp: Cdp | null = null;
  try {
    const browserUrl = await devtoolsUrl(child.stderr, timeoutMs);
    const port = new URL(browserUrl).port;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    if (!page) throw new Error("headless Chromium has no page target");
    cdp = await Cdp.open(page.webSocketDebuggerUrl);
    await cdp.send("Network.enable");
    await cdp.send("Page.enable");
    const url = new URL(`file://${file}`).href;
    await cdp.send("Page.navigate", { url });
    await cdp.waitFor("Page.loadEventFired", timeoutMs);
    const deadline = Date.now() + timeoutMs;
    let probe: Omit<PageInspection, "requests" | "screenshot"> & { ready: boolean };
    while (true) {
      const r = await cdp.send("Runtime.evaluate", { expression: PROBE, returnByValue: true });
      probe = JSON.parse((r.result as { value: string }).value);
      if (probe.ready || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const metrics = await cdp.send("Page.getLayoutMetrics");
    const size = metrics.cssContentSize as { width: number; height: number };
    const shot = await cdp.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: size.width, height: Math.min(size.height, 16000), scale: 0.5 },
    });
    const requests = cdp.events
      .filter((e) => e.method === "Network.requestWillBeSent")
      .map((e) => (e.params!.request as { url: string }).url)
      .filter((u) => !u.startsWith("data:") && u !== url && !u.startsWith("about:"));
    const { ready: _ready, ...seen } = probe;
    return {
      ...seen,
      requests,
      screenshot: Uint8Array.from(atob(shot.data as string), (c) => c.charCodeAt(0)),
    };
  } finally {
    cdp?.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
