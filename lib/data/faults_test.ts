/**
 * Fault injection for the data side (issue 12): symlinked images and folders (and a loop),
 * broken, empty, truncated and wrong-format files, missing folders and index files, a pixel
 * cache changed in place, and `deno task data --force` beside user files. Every case is a
 * clear error naming the file or a warning naming the ids / files; nothing is dropped
 * silently. Tiny hand-made trees, so the whole file runs in a few seconds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedPixels, cachePath } from "./cache.ts";
import { generate, MANIFEST_FILE } from "./generate.ts";
import { decodeImages } from "./images.ts";
import { AnnotationError, LayoutError, loadDataset } from "./loaders/index.ts";
import { withTempDir, writeText, writeTinyImage, writeTree } from "./testing.ts";
import { writeMat5 } from "./writers/mat5.ts";
import { DEFAULT_CONFIGS } from "./world/presets.ts";

const quiet = { verbose: false };
const pad = (n: number) => String(n).padStart(4, "0");

/** A SYSU-MM01 tree: ids 1 (train), 2 (val), 3–4 (test); 2 images per id and camera. */
async function sysuTree(root: string, skip: (pid: number, cam: number) => boolean = () => false) {
  const files: string[] = [];
  for (const pid of [1, 2, 3, 4]) {
    for (const cam of [1, 2, 3, 4, 5, 6]) {
      if (skip(pid, cam)) continue;
      for (const n of [1, 2]) files.push(`cam${cam}/${pad(pid)}/${pad(n)}.jpg`);
    }
  }
  await writeTree(root, files);
  for (const cam of [1, 2, 3, 4, 5, 6]) {
    await Deno.mkdir(join(root, `cam${cam}`), { recursive: true });
  }
  await writeText(root, "exp/train_id.txt", "1");
  await writeText(root, "exp/val_id.txt", "2");
  await writeText(root, "exp/test_id.txt", "3,4");
  return files;
}

/** Captures console.warn while `fn` runs. */
function warnings<T>(fn: () => T): { value: T; lines: string[] } {
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { value: fn(), lines };
  } finally {
    console.warn = original;
  }
}

Deno.test("loaders follow symlinked images and id folders; loops and broken links are named, not followed", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "SYSU-MM01");
    const elsewhere = join(dir, "elsewhere");
    await sysuTree(root);
    // Id 4's cam1 folder and one image of id 3 live elsewhere, reached by links.
    await Deno.rename(join(root, "cam1", "0004"), join(elsewhere));
    await Deno.symlink(elsewhere, join(root, "cam1", "0004"));
    await writeTinyImage(join(dir, "far.jpg"), 9);
    await Deno.symlink(join(dir, "far.jpg"), join(root, "cam2", "0003", "0003.jpg"));
    // A loop (an id folder linking to its camera folder), a self-link and a broken link.
    await Deno.symlink(join(root, "cam5"), join(root, "cam5", "0009"));
    await Deno.symlink("0008", join(root, "cam5", "0008"));
    await Deno.symlink(join(dir, "gone.jpg"), join(root, "cam2", "0003", "0004.jpg"));
    const ds = loadDataset("sysu_mm01", dir, { ...quiet, trials: 1 });
    const rel = ds.images.map((im) => im.path.slice(root.length + 1));
    assert.ok(rel.includes("cam1/0004/0001.jpg"), "symlinked id folder read");
    assert.ok(rel.includes("cam2/0003/0003.jpg"), "symlinked image read");
    assert.equal(ds.images.length, 4 * 6 * 2 + 1);
    const notes = ds.notes!.join("\n");
    assert.match(notes, /cam5\/0009: symbolic link loop \(points to .*cam5, which contains it\)/);
    assert.match(notes, /cam5\/0008: symbolic link loop/);
    assert.match(notes, /cam2\/0003\/: skipped 1 entr\(y\/ies\): 0004\.jpg \(broken symbolic link/);
  });
});

Deno.test("SYSU anomalies: empty cameras and listed ids without images are warned about by name; no queries is an error", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "SYSU-MM01");
    await sysuTree(root, (pid, cam) => cam === 5 || (pid === 2 && cam !== 0));
    await writeText(root, "exp/val_id.txt", "2,7");
    const { value: ds, lines } = warnings(() => loadDataset("sysu_mm01", dir, quiet));
    const w = ds.warnings!.join("\n");
    assert.match(w, /cam5\/ \(rgb\) holds no images/);
    assert.match(w, /2 id\(s\) listed in exp\/ have no images in any camera folder: 2, 7/);
    assert.ok(
      lines.some((l) => /WARNING: cam5\/ \(rgb\) holds no images/.test(l)),
      lines.join("\n"),
    );

    // Both infrared cameras empty: there would be no queries at all.
    for (const cam of [3, 6]) {
      await Deno.remove(join(root, `cam${cam}`), { recursive: true });
      await Deno.mkdir(join(root, `cam${cam}`));
    }
    assert.throws(
      () => warnings(() => loadDataset("sysu_mm01", dir, quiet)),
      (e: unknown) =>
        e instanceof AnnotationError &&
        /test_id\.txt: the 2 test id\(s\) have no infrared images in cam3\/, cam6\//.test(
          e.message,
        ),
    );
    // A missing camera folder is a layout error showing what was expected.
    await Deno.remove(join(root, "cam6"), { recursive: true });
    assert.throws(() => loadDataset("sysu_mm01", dir, quiet), LayoutError);
  });
});

Deno.test("SYSU gallery draws are redone when gallery images are added", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "SYSU-MM01");
    await sysuTree(root);
    const first = loadDataset("sysu_mm01", dir, { ...quiet, trials: 2 });
    assert.match(first.notes!.join("\n"), /drew and saved gallery trials/);
    const again = loadDataset("sysu_mm01", dir, { ...quiet, trials: 2 });
    assert.match(again.notes!.join("\n"), /reused gallery trials/);
    await writeTree(root, ["cam1/0003/0003.jpg", "cam1/0003/0004.jpg"]);
    const { value: redrawn, lines } = warnings(() =>
      loadDataset("sysu_mm01", dir, { ...quiet, trials: 2 })
    );
    assert.match(redrawn.notes!.join("\n"), /drew and saved gallery trials/);
    assert.ok(lines.some((l) => /gallery images changed since the draw/.test(l)), lines.join("\n"));
  });
});

Deno.test("RegDB: a trial missing one index file is an error naming it; absent trials are a warning", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "RegDB");
    const files: string[] = [];
    for (const pid of [1, 2, 3, 4]) {
      files.push(`Visible/${pid}/v_${pid}.bmp`, `Thermal/${pid}/t_${pid}.bmp`);
    }
    await writeTree(root, files);
    const lines = (mod: string, pids: number[]) =>
      files.filter((f) => f.startsWith(mod) && pids.includes(Number(f.split("/")[1])))
        .map((f) => `${f} ${Number(f.split("/")[1])}`).join("\n");
    for (const k of [1, 2]) {
      await writeText(root, `idx/train_visible_${k}.txt`, lines("Visible", [1, 2]));
      await writeText(root, `idx/train_thermal_${k}.txt`, lines("Thermal", [1, 2]));
      await writeText(root, `idx/test_visible_${k}.txt`, lines("Visible", [3, 4]));
      await writeText(root, `idx/test_thermal_${k}.txt`, lines("Thermal", [3, 4]));
    }
    const { value: ds } = warnings(() => loadDataset("regdb", dir, quiet));
    assert.equal(ds.trials!.length, 4);
    assert.match(ds.warnings!.join("\n"), /no index files for trial\(s\) 3, 4, 5, 6, 7, 8, 9, 10/);
    await Deno.remove(join(root, "idx", "test_thermal_2.txt"));
    assert.throws(
      () => warnings(() => loadDataset("regdb", dir, quiet)),
      /trial 2: missing .*test_thermal_2\.txt/,
    );
  });
});

Deno.test("truncated annotation files: PETA Label.txt cut mid-token and a cut MAT file are errors naming the file", async () => {
  await withTempDir(async (dir) => {
    const peta = join(dir, "PETA dataset");
    await writeTree(peta, ["CUHK/archive/0001.png", "CUHK/archive/0002.png"]);
    const full = "0001 personalMale upperBodyBlack lowerBodyJeans\n" +
      "0002 personalFemale upperBodyBlack lowerBodyJeans\n";
    await writeText(peta, "CUHK/archive/Label.txt", full);
    assert.equal(loadDataset("peta", dir, quiet).attributeNames.length, 4);
    // A copy cut short: "lowerBodyJeans" became "lowerBodyJe", a 5th "attribute".
    await writeText(peta, "CUHK/archive/Label.txt", full.slice(0, full.length - 4));
    assert.throws(
      () => loadDataset("peta", dir, quiet),
      /Label\.txt:2: the file ends mid-line and its last token "lowerBodyJe" is labelled nowhere else \(cut from "lowerBodyJeans"\?\)/,
    );
    // A last line that is complete but lacks the final line break is fine.
    await writeText(peta, "CUHK/archive/Label.txt", full.trimEnd());
    assert.equal(loadDataset("peta", dir, quiet).attributeNames.length, 4);

    const root = join(dir, "SYSU-MM01");
    await sysuTree(root);
    const mat = writeMat5([["cam1_att", {
      kind: "double",
      rows: 8,
      cols: 4,
      data: new Array(32).fill(0),
    }]]);
    await Deno.mkdir(join(root, "sysu_attribute"));
    await Deno.writeFile(
      join(root, "sysu_attribute", "cam1_att.mat"),
      mat.subarray(0, mat.length - 9),
    );
    assert.throws(
      () => loadDataset("sysu_mm01", join(dir, "SYSU-MM01"), quiet),
      /cam1_att\.mat: not a readable MATLAB v5 MAT-file: .* runs past the end/,
    );
  });
});

Deno.test("decode errors keep their cause in parallel: corrupt, zero-byte and wrong-format images", async () => {
  await withTempDir(async (dir) => {
    const good = join(dir, "good.png");
    await writeTinyImage(good, 1);
    const empty = join(dir, "empty.jpg");
    await Deno.writeFile(empty, new Uint8Array());
    const png = join(dir, "png-named.jpg");
    await Deno.copyFile(good, png);
    const size = { height: 8, width: 4 };
    // Many corrupt JPEGs at once: libvips shares one error buffer between them.
    const corrupt = Array.from({ length: 12 }, (_, i) => join(dir, `bad${i}.jpg`));
    for (const [i, p] of corrupt.entries()) {
      await Deno.writeFile(p, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, i]));
    }
    const messages = await Promise.all(
      corrupt.map((p) =>
        decodeImages([good, p, good, good], size, { concurrency: 4 }).then(
          () => "decoded?",
          (e: Error) => e.message,
        )
      ),
    );
    for (const [i, m] of messages.entries()) {
      assert.match(m, new RegExp(`cannot decode image .*bad${i}\\.jpg: \\S`), m);
      assert.doesNotMatch(m, /Unknown error|corrupt header:\s*$/, m);
    }
    await assert.rejects(
      decodeImages([good, empty], size),
      /empty\.jpg: the file is empty \(0 bytes\); expected an image/,
    );
    // A PNG named .jpg decodes (sharp reads the content); only bad content is an error.
    assert.equal((await decodeImages([png], size)).length, 8 * 4 * 3);
    const text = join(dir, "note.png");
    await Deno.writeTextFile(text, "not an image at all");
    await assert.rejects(
      decodeImages([text], size),
      /note\.png: the content is not a known image format, but the name says PNG/,
    );
  });
});

Deno.test("the pixel cache notices a file changed in place (content hash), not only its size", async () => {
  await withTempDir(async (dir) => {
    const paths = [0, 1, 2].map((i) => join(dir, `img${i}.png`));
    for (const [i, p] of paths.entries()) await writeTinyImage(p, i + 1);
    const options = { cacheDir: join(dir, "cache") };
    const size = { height: 8, width: 4 };
    const first = await cachedPixels(paths, size, options);
    const file = cachePath(paths, size, options);
    const bytes = await Deno.readFile(file);
    bytes[bytes.length - 5] ^= 0xff; // same size, one byte flipped
    await Deno.writeFile(file, bytes);
    const second = await cachedPixels(paths, size, options);
    assert.equal(second.hit, false);
    assert.match(second.missReason!, /does not match its hash/);
    assert.deepEqual(second.pixels, first.pixels, "decoded again, not read from the bad file");
    assert.equal((await cachedPixels(paths, size, options)).hit, true, "and rewritten");
  });
});

Deno.test("deno task data --force keeps user files inside a generated folder; bad flags stop with usage", async () => {
  await withTempDir(async (dir) => {
    const configs = { viper: { ...DEFAULT_CONFIGS.viper, height: 64, width: 24, sharedIds: 2 } };
    const opts = {
      presets: ["viper" as const],
      root: dir,
      seed: 1,
      force: false,
      workers: 1,
      sheets: null,
      configs,
      log: () => {},
    };
    await generate(opts);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "viper", MANIFEST_FILE)));
    assert.ok(manifest.files.some((f: string) => f.startsWith("VIPeR/cam_a/")));
    await writeText(join(dir, "viper"), "my_notes.txt", "mine");
    await writeText(join(dir, "viper"), "VIPeR/extra/mine.png", "mine too");
    await writeText(join(dir, "viper"), "VIPeR/splits_seed0.json", "{}"); // a loader's draw
    const lines: string[] = [];
    await generate({ ...opts, force: true, log: (l) => lines.push(l) });
    assert.equal(await Deno.readTextFile(join(dir, "viper", "my_notes.txt")), "mine");
    assert.equal(await Deno.readTextFile(join(dir, "viper", "VIPeR/extra/mine.png")), "mine too");
    assert.equal(
      await Deno.stat(join(dir, "viper", "VIPeR/splits_seed0.json")).catch(() => null),
      null,
    );
    assert.match(lines.join("\n"), /kept 2 file\(s\) the generator did not write: .*my_notes\.txt/);
    const viper = loadDataset("viper", join(dir, "viper"), quiet);
    assert.equal(viper.images.length, 4);
  });
  const script = fileURLToPath(new URL("./generate.ts", import.meta.url));
  for (
    const [args, message] of [
      [["--workers", "abc"], /--workers must be a positive integer, got "abc"/],
      [["--seed", "x"], /--seed must be a non-negative integer/],
      [["--preset", "nope"], /unknown preset "nope"/],
      [["--frobnicate"], /Unknown option '--frobnicate'/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args, "--root", "/nonexistent-never-written"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(stderr, message);
    assert.match(stderr, /usage: deno task data/);
  }
});
