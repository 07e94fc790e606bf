/**
 * Headless notebook execution (issue 5 item 5, docs/design.md, 'Notebooks').
 *
 * A notebook runs through Jupyter itself — Debian's `python3-nbclient` driving
 * Deno's kernel — with a project-local kernelspec (`.jupyter/kernels/deno/`,
 * found through `JUPYTER_PATH`, so nothing is installed into the user's Jupyter).
 * The executed copy is written, then read back: the run fails when any cell has
 * an error output or a stderr stream with an uncaught error, or when the kernel
 * reported async errors (rejections, timer throws) that Deno's kernel otherwise
 * drops silently — not only on the exit code.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../runtime/fs.ts";
import { QUICK_ENV } from "../runtime/quick.ts";
import { REPO_ROOT } from "../runtime/paths.ts";

/** The Python that has `nbclient` (Debian's python3-nbclient); override with `REID_PYTHON`. */
export function pythonExecutable(): string {
  return Deno.env.get("REID_PYTHON") ?? "/usr/bin/python3";
}

/** A Jupyter kernelspec (`kernel.json`). */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

/**
 * The Deno kernelspec, in the form `deno jupyter --install` writes, but naming the
 * Deno binary that runs this process so the kernel is the project's pinned Deno.
 */
export function denoKernelSpec(deno: string = Deno.execPath()): KernelSpec {
  return {
    argv: [deno, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
  };
}

/**
 * Write the project-local kernelspec `<root>/.jupyter/kernels/deno/kernel.json`
 * (git-ignored) when missing or stale, and return the directory to put on
 * `JUPYTER_PATH`. The file is written under a temporary name and renamed, so
 * parallel test processes never read half a file.
 */
export async function ensureKernelspec(root: string = REPO_ROOT): Promise<string> {
  const jupyterPath = join(root, ".jupyter");
  const dir = join(jupyterPath, "kernels", "deno");
  const file = join(dir, "kernel.json");
  const text = JSON.stringify(denoKernelSpec(), null, 2) + "\n";
  let current: string | null = null;
  try {
    current = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (current !== text) {
    await writeFileAtomic(file, text);
  }
  return jupyterPath;
}

/** One output of a code cell, as nbformat 4 stores it. */
export interface CellOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** One notebook cell, as nbformat 4 stores it. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: CellOutput[];
  metadata?: Record<string, unknown>;
}

/** A notebook document (the parts the harness reads). */
export interface NotebookDocument {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Joined text of a multi-line nbformat string. */
export function joinText(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

/** Parse notebook JSON; errors name `path` and what was expected. */
export function parseNotebook(text: string, path: string): NotebookDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message}); expected an .ipynb notebook`);
  }
  const nb = value as Partial<NotebookDocument>;
  if (typeof nb !== "object" || nb === null || !Array.isArray(nb.cells)) {
    throw new Error(`${path}: expected an nbformat 4 notebook with a "cells" array`);
  }
  if (nb.nbformat !== 4) {
    throw new Error(`${path}: expected nbformat 4, found ${String(nb.nbformat)}`);
  }
  for (const [i, cell] of nb.cells.entries()) {
    if (typeof cell?.cell_type !== "string" || cell.source === undefined) {
      throw new Error(`${path}: cell ${i + 1} lacks cell_type or source`);
    }
  }
  return { metadata: {}, ...nb } as NotebookDocument;
}

/** Read and parse a notebook file. */
export async function readNotebook(path: string): Promise<NotebookDocument> {
  return parseNotebook(await Deno.readTextFile(path), path);
}

/** A problem found in an executed notebook. */
export interface NotebookProblem {
  /** 1-based index over all cells, as Jupyter shows the notebook (0: not tied to a cell). */
  cell: number;
  message: string;
}

// Deno prints uncaught errors as "Uncaught ..." / "error: Uncaught ..."; the guard
// cell of nbrun.py uses the same words.
const UNCAUGHT_PATTERN = /^(?:error: )?Uncaught\b.*$/m;

/** Strip ANSI colour codes from kernel text. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * Every error in an executed notebook: `error` outputs, and stderr streams that
 * carry an uncaught error. Warnings on stderr are not errors.
 */
export function notebookProblems(nb: NotebookDocument): NotebookProblem[] {
  const problems: NotebookProblem[] = [];
  nb.cells.forEach((cell, i) => {
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "error") {
        const trace = stripAnsi((output.traceback ?? []).slice(0, 6).join("\n"));
        problems.push({
          cell: i + 1,
          message: `${output.ename ?? "Error"}: ${output.evalue ?? ""}${trace ? `\n${trace}` : ""}`,
        });
      } else if (output.output_type === "stream" && output.name === "stderr") {
        const match = stripAnsi(joinText(output.text)).match(UNCAUGHT_PATTERN);
        if (match) problems.push({ cell: i + 1, message: `stderr: ${match[0]}` });
      }
    }
  });
  return problems;
}

/**
 * The shape of a notebook's outputs, cell by cell: each output as its type and MIME types
 * (streams by name, consecutive chunks of one stream merged, since the kernel may split a
 * print anywhere). Two complete runs of a deterministic notebook have the same shape even
 * though timings and numbers in the text differ; a run that lost an output does not.
 */
export function outputStructure(nb: NotebookDocument): string[][] {
  return nb.cells.map((cell) => {
    const shape: string[] = [];
    for (const output of cell.outputs ?? []) {
      const entry = output.output_type === "stream"
        ? `stream:${output.name}`
        : output.output_type === "error"
        ? `error:${output.ename}`
        : `${output.output_type}:${Object.keys(output.data ?? {}).sort().join(",")}`;
      if (!(entry.startsWith("stream:") && shape.at(-1) === entry)) shape.push(entry);
    }
    return shape;
  });
}

/** Options of {@link executeNotebook}. */
export interface ExecuteOptions {
  /** Folder for the executed copy (created); the copy keeps the notebook's file name. */
  outDir: string;
  /** Extra environment for the kernel (e.g. `{REID_BACKEND: "cpu"}`). */
  env?: Record<string, string>;
  /** Run in quick mode (`REID_QUICK=1`); default false. */
  quick?: boolean;
  /** Limit for the whole run and for each cell, in seconds; default 600. */
  timeoutSec?: number;
  /** The kernel's working directory; default the notebook's folder (relative imports resolve). */
  cwd?: string;
}

/** What {@link executeNotebook} produced. */
export interface ExecuteResult {
  /** The executed copy, with outputs. */
  outputPath: string;
  /** Code cells in the notebook. */
  codeCells: number;
  seconds: number;
}

/** Why a notebook run failed; `problems` lists each failing cell. */
export class NotebookExecutionError extends Error {
  /** The failures, per cell. */
  readonly problems: NotebookProblem[];
  /** The executed copy (may be partial), when one was written. */
  readonly outputPath: string | null;

  /** Build the message from the notebook path and its problems. */
  constructor(path: string, problems: NotebookProblem[], outputPath: string | null) {
    const lines = problems.map((p) => `  ${p.cell > 0 ? `cell ${p.cell}: ` : ""}${p.message}`);
    super(
      `${path}: notebook failed${outputPath ? ` (executed copy: ${outputPath})` : ""}\n` +
        lines.join("\n"),
    );
    this.name = "NotebookExecutionError";
    this.problems = problems;
    this.outputPath = outputPath;
  }
}

/**
 * Run a notebook headless through Jupyter and write the executed copy to
 * `outDir`. Rejects with {@link NotebookExecutionError} on any error output,
 * uncaught error on stderr, dropped async error, timeout or kernel death.
 */
export async function executeNotebook(
  path: string,
  options: ExecuteOptions,
): Promise<ExecuteResult> {
  const source = resolve(path);
  const nb = await readNotebook(source);
  const timeoutSec = options.timeoutSec ?? 600;
  const jupyterPath = await ensureKernelspec();
  await Deno.mkdir(options.outDir, { recursive: true });
  const outputPath = join(resolve(options.outDir), basename(source));
  const runtimeDir = await Deno.makeTempDir({ prefix: "reid-jupyter-runtime-" });
  const started = performance.now();

  const env: Record<string, string> = {
    JUPYTER_PATH: jupyterPath,
    JUPYTER_RUNTIME_DIR: runtimeDir,
    // Plain text/plain outputs: ANSI colour codes are noise in executed copies and HTML.
    NO_COLOR: "1",
    ...(options.quick ? { [QUICK_ENV]: "1" } : {}),
    ...options.env,
  };
  const script = join(dirname(fileURLToPath(import.meta.url)), "nbrun.py");
  // setsid puts python and the kernel it starts in their own process group, so a
  // run past its deadline can be stopped whole (no orphaned kernels).
  const command = new Deno.Command("setsid", {
    args: [
      pythonExecutable(),
      script,
      source,
      outputPath,
      "--cwd",
      options.cwd ?? dirname(source),
      "--kernel",
      "deno",
      "--timeout",
      String(timeoutSec),
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, (timeoutSec + 30) * 1000);
  let output: Deno.CommandOutput;
  try {
    output = await child.output();
  } finally {
    clearTimeout(deadline);
    await Deno.remove(runtimeDir, { recursive: true }).catch(() => {});
  }
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  const problems: NotebookProblem[] = [];
  if (timedOut) problems.push({ cell: 0, message: `killed after ${timeoutSec + 30} s` });

  let report: { failure: string | null; uncaught: string[] } | null = null;
  const reportLine = stdout.trim().split("\n").at(-1) ?? "";
  try {
    report = JSON.parse(reportLine);
  } catch {
    problems.push({
      cell: 0,
      message: `the Jupyter runner (${pythonExecutable()} nbrun.py) exited with code ` +
        `${output.code} and no report:\n${stderr.trim().split("\n").slice(-15).join("\n")}`,
    });
  }
  let written: NotebookDocument | null = null;
  try {
    written = await readNotebook(outputPath);
  } catch {
    // No executed copy: the runner failed before writing; reported above.
  }
  if (written) problems.push(...notebookProblems(written));
  if (report) {
    for (const text of report.uncaught) {
      problems.push({ cell: 0, message: `uncaught async error: ${text}` });
    }
    const cellFailed = problems.some((p) => p.cell > 0);
    if (report.failure && !(report.failure === "cell error" && cellFailed)) {
      problems.push({ cell: 0, message: report.failure });
    }
  }
  if (problems.length > 0) {
    throw new NotebookExecutionError(source, problems, written ? outputPath : null);
  }
  return {
    outputPath,
    codeCells: nb.cells.filter((c) => c.cell_type === "code").length,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The notebooks of a folder (`*.ipynb`, sorted), as absolute paths. */
export async function listNotebooks(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".ipynb")) found.push(join(resolve(dir), entry.name));
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found.sort();
}

/**
 * nbconvert template folder holding the project's `reid` HTML template (used by
 * lib/report/notebook_html.ts, which makes self-contained HTML of executed notebooks).
 */
export const NBCONVERT_TEMPLATES: string = join(
  dirname(fileURLToPath(import.meta.url)),
  "nbconvert",
);
