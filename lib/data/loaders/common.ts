/**
 * Shared pieces of the dataset loaders: folder listing, layout errors that show
 * the expected and the found tree, file-name parsing by pattern, and split
 * files drawn once with a seed and saved beside the data.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomicSync } from "../../runtime/fs.ts";

/** File extensions treated as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([".jpg", ".jpeg", ".png", ".bmp"]);

/** Options every loader accepts. */
export interface LoaderOptions {
  /** Print the summary after loading (default true). */
  verbose?: boolean;
  /** Seed of the random splits/trials drawn for this dataset (default 0). */
  seed?: number;
}

/** A dataset folder does not have the layout the loader expects. */
export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayoutError";
  }
}

/** An annotation file (attributes, split lists) does not match the images. */
export class AnnotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AnnotationError";
  }
}

/** True when `path` is an existing directory. */
export function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** True when `path` is an existing regular file. */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Lower-case extension of a file name, with the dot ("" when none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot).toLowerCase();
}

/**
 * One folder entry with symbolic links followed: `isFile` / `isDirectory` describe the
 * target. An entry that cannot be used (a broken link, a link loop, a socket or device)
 * has both false and `problem` saying why, so that callers can name what they skip.
 */
export interface FolderEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  problem?: string;
}

function realPath(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}

/**
 * A folder's entries, sorted by name so that every load sees the same order. Symbolic links
 * are followed (real datasets are often assembled from links); a link to the folder itself
 * or to one of its ancestors would make a walk go round forever, so it is reported as a
 * loop (`problem`) instead of being followed.
 */
export function listDir(path: string): FolderEntry[] {
  const entries = [...Deno.readDirSync(path)].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  let here: string | null | undefined;
  return entries.map((entry): FolderEntry => {
    const base = { name: entry.name, isSymlink: entry.isSymlink };
    if (!entry.isSymlink) {
      const special = !entry.isFile && !entry.isDirectory;
      return {
        ...base,
        isFile: entry.isFile,
        isDirectory: entry.isDirectory,
        ...(special ? { problem: "not a regular file or folder" } : {}),
      };
    }
    const full = join(path, entry.name);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(full);
    } catch (error) {
      const target = (() => {
        try {
          return Deno.readLinkSync(full);
        } catch {
          return "?";
        }
      })();
      const problem = error instanceof Deno.errors.NotFound
        ? `broken symbolic link (to ${target})`
        : error instanceof Deno.errors.FilesystemLoop
        ? `symbolic link loop (to ${target})`
        : `unreadable symbolic link (${(error as Error).message})`;
      return { ...base, isFile: false, isDirectory: false, problem };
    }
    if (info.isDirectory) {
      here ??= realPath(path);
      const target = realPath(full);
      if (here && target && (here === target || here.startsWith(target + "/"))) {
        return {
          ...base,
          isFile: false,
          isDirectory: false,
          problem: `symbolic link loop (points to ${target}, which contains it)`,
        };
      }
    }
    if (!info.isFile && !info.isDirectory) {
      return {
        ...base,
        isFile: false,
        isDirectory: false,
        problem: "not a regular file or folder",
      };
    }
    return { ...base, isFile: info.isFile, isDirectory: info.isDirectory };
  });
}

/** Image files and other files of one folder (sub-folders are not descended into). */
export interface FolderFiles {
  images: string[];
  /** Non-image files present (e.g. the release's Thumbs.db); reported, never read. */
  others: string[];
  /** Entries that are not files: sub-folders, broken links, link loops — each with why. */
  skipped: string[];
}

/** Splits a folder's files into images and others, sorted by name; links are followed. */
export function listImages(path: string): FolderFiles {
  const images: string[] = [];
  const others: string[] = [];
  const skipped: string[] = [];
  for (const entry of listDir(path)) {
    if (entry.problem) skipped.push(`${entry.name} (${entry.problem})`);
    else if (entry.isDirectory) skipped.push(`${entry.name}/ (a folder where images are expected)`);
    else (IMAGE_EXTENSIONS.has(extensionOf(entry.name)) ? images : others).push(entry.name);
  }
  return { images, others, skipped };
}

/**
 * The notes a loader adds for one image folder: non-image files and skipped entries, each
 * counted and named (the first few), so that nothing is left out silently.
 */
export function folderNotes(label: string, files: FolderFiles, limit = 5): string[] {
  const named = (list: string[]) =>
    list.slice(0, limit).join(", ") +
    (list.length > limit ? `, … ${list.length - limit} more` : "");
  const notes: string[] = [];
  if (files.others.length) {
    notes.push(
      `${label}: ignored ${files.others.length} non-image file(s): ${named(files.others)}`,
    );
  }
  if (files.skipped.length) {
    notes.push(`${label}: skipped ${files.skipped.length} entr(y/ies): ${named(files.skipped)}`);
  }
  return notes;
}

/**
 * A text picture of what is at `root`, two levels deep, a few entries per
 * folder: what a layout error shows as "found".
 *
 * @see notebooks/00_introduction.ipynb §2 (the datasets and their layouts)
 */
export function describeTree(root: string, depth = 2, perFolder = 8): string {
  if (!isDir(root)) return `  ${root}  (does not exist or is not a folder)`;
  const lines = [`  ${root}/`];
  const walk = (path: string, level: number) => {
    let entries: FolderEntry[];
    try {
      entries = listDir(path);
    } catch (error) {
      lines.push(`${"  ".repeat(level + 1)}(unreadable: ${(error as Error).message})`);
      return;
    }
    if (entries.length === 0) lines.push(`${"  ".repeat(level + 1)}(empty)`);
    const dirs = entries.filter((e) => e.isDirectory);
    const files = entries.filter((e) => !e.isDirectory);
    for (const entry of dirs.slice(0, perFolder)) {
      lines.push(`${"  ".repeat(level + 1)}${entry.name}/`);
      if (level + 1 < depth) walk(join(path, entry.name), level + 1);
    }
    if (dirs.length > perFolder) {
      lines.push(`${"  ".repeat(level + 1)}… ${dirs.length - perFolder} more folders`);
    }
    for (const entry of files.slice(0, Math.max(2, perFolder - dirs.length))) {
      lines.push(`${"  ".repeat(level + 1)}${entry.name}`);
    }
    const shown = Math.max(2, perFolder - dirs.length);
    if (files.length > shown) {
      lines.push(`${"  ".repeat(level + 1)}… ${files.length - shown} more files`);
    }
  };
  walk(root, 0);
  return lines.join("\n");
}

/** Builds the layout error: what was asked, the expected tree, and what is there. */
export function layoutError(
  dataset: string,
  root: string,
  problem: string,
  expectedTree: string,
): LayoutError {
  return new LayoutError(
    `${dataset}: ${problem}\nexpected:\n${expectedTree}\nfound:\n${describeTree(root)}`,
  );
}

/**
 * The first candidate folder (relative to `root`, "" for root itself) that
 * holds every one of `required` sub-paths, or null.
 */
export function findDataDir(
  root: string,
  candidates: readonly string[],
  required: readonly string[],
): string | null {
  for (const candidate of candidates) {
    const dir = candidate === "" ? root : join(root, candidate);
    if (required.every((sub) => isDir(join(dir, sub)) || isFile(join(dir, sub)))) return dir;
  }
  return null;
}

/**
 * Matches a file name against a loader's pattern, or throws naming the file
 * and the expected form: names are parsed by pattern, never by position.
 */
export function parseName(
  pattern: RegExp,
  name: string,
  where: string,
  expected: string,
): RegExpMatchArray {
  const match = name.match(pattern);
  if (!match) {
    throw new LayoutError(
      `${join(where, name)}: file name does not match the release's pattern ${expected}`,
    );
  }
  return match;
}

/**
 * Random splits or trials drawn once with a seed and saved beside the data as
 * JSON; later loads reuse the file. `validate` checks a saved file still fits
 * the data (returns a reason when it does not, and the file is then redrawn and
 * overwritten with a warning). When the folder is read-only the draw is used
 * without saving, with a warning.
 */
export function loadOrDrawSplits<T>(
  path: string,
  draw: () => T,
  validate: (saved: T) => string | null,
): { value: T; reused: boolean } {
  if (isFile(path)) {
    let saved: T | null = null;
    let reason: string | null;
    try {
      saved = JSON.parse(Deno.readTextFileSync(path)) as T;
      reason = validate(saved);
    } catch (error) {
      reason = `unreadable (${(error as Error).message})`;
    }
    if (reason === null && saved !== null) return { value: saved, reused: true };
    console.warn(`${path}: saved splits do not fit the data (${reason}); drawing them again`);
  }
  const value = draw();
  try {
    writeFileAtomicSync(path, JSON.stringify(value, null, 1) + "\n");
  } catch (error) {
    console.warn(`${path}: could not save the drawn splits (${(error as Error).message})`);
  }
  return { value, reused: false };
}

/** Resolves a seed option (default 0) and checks it is a safe non-negative integer. */
export function seedOf(options: LoaderOptions | undefined): number {
  const seed = options?.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed must be a non-negative safe integer, got ${seed}`);
  }
  return seed;
}

/** Same arrays of numbers, element by element. */
export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
