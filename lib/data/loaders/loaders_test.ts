import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir, writeText, writeTree } from "../testing.ts";
import { AnnotationError, LayoutError, loadDataset, summarize } from "./index.ts";
import { doubleRow, type MatValue, stringCellRow, writeMat5 } from "../writers/mat5.ts";
import {
  MARKET_BINARY_FIELDS,
  MARKET_LOWER_COLORS,
  MARKET_UPPER_COLORS,
} from "./release_attributes.ts";
import { PRID_CAM_A_ONLY_OFFSET } from "./prid2011.ts";

const quiet = { verbose: false } as const;

const MARKET_FILES = [
  "bounding_box_train/0002_c1s1_000451_03.jpg",
  "bounding_box_train/0002_c2s1_000301_01.jpg",
  "bounding_box_train/0007_c3s3_077419_06.jpg",
  "query/0001_c1s1_001051_00.jpg",
  "query/0003_c2s1_000726_00.jpg",
  "bounding_box_test/0001_c5s1_001426_04.jpg",
  "bounding_box_test/0003_c6s1_002051_01.jpg",
  "bounding_box_test/0000_c1s1_000151_01.jpg",
  "bounding_box_test/-1_c1s1_000401_03.jpg",
  "bounding_box_test/-1_c3s1_000551_04.jpg",
];

function marketAttributePart(ids: string[], value: (field: string, i: number) => number) {
  const part: Record<string, unknown> = {};
  for (const f of [...MARKET_BINARY_FIELDS, ...MARKET_UPPER_COLORS, ...MARKET_LOWER_COLORS]) {
    part[f] = ids.map((_, i) => value(f, i));
  }
  part.age = ids.map((_, i) => (i % 4) + 1);
  part.image_index = ids;
  return part;
}

Deno.test("market1501: nested release folder, ids/cameras/extras parsed by pattern, junk kept", async () => {
  await withTempDir(async (dir) => {
    const release = join(dir, "market1501", "Market-1501-v15.09.15");
    await writeTree(release, MARKET_FILES);
    await writeText(release, "bounding_box_train/Thumbs.db", "x");
    await writeTree(release, ["gt_bbox/0001_c1s1_001051_00.jpg"]);
    const ds = loadDataset("market1501", dir, quiet);
    assert.equal(ds.root, release);
    assert.equal(ds.images.length, MARKET_FILES.length);
    const byName = new Map(ds.images.map((im) => [im.path.split("/").pop(), im]));
    const a = byName.get("0002_c2s1_000301_01.jpg")!;
    assert.deepEqual([a.pid, a.camid, a.split, a.modality], [2, 2, "train", "rgb"]);
    assert.deepEqual(a.meta, { sequence: 1, frame: 301, box: 1 });
    assert.equal(byName.get("-1_c3s1_000551_04.jpg")!.pid, -1);
    assert.equal(byName.get("0000_c1s1_000151_01.jpg")!.split, "gallery");
    const text = summarize(ds);
    assert.match(text, /gallery\s+2\s+5\s+1,3,5,6/);
    assert.match(text, /Thumbs\.db/);
    assert.match(text, /not loaded: gt_bbox\//);
    assert.equal(ds.attributeNames.length, 0);
  });
});

Deno.test("market1501: attributes from a compressed .mat and the JSON equivalent agree", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, MARKET_FILES);
    const value = (f: string, i: number) => (f === "gender" ? 2 - (i % 2) : f === "upred" ? 2 : 1);
    const train = marketAttributePart(["0002", "0007"], value);
    const test = marketAttributePart(["0001", "0003"], value);
    // Number arrays become 1×N double rows, `image_index` a cell of strings.
    const toMat = (part: Record<string, unknown>): MatValue => ({
      kind: "struct",
      fields: Object.entries(part).map(([k, v]) => [
        k,
        k === "image_index" ? stringCellRow(v as string[]) : doubleRow(v as number[]),
      ]),
    });
    const mat = writeMat5(
      [["market_attribute", {
        kind: "struct",
        fields: [["train", toMat(train)], ["test", toMat(test)]],
      }]],
      { compress: true },
    );
    await Deno.writeFile(join(dir, "market_attribute.mat"), mat);
    const fromMat = loadDataset("market1501", dir, quiet);
    await Deno.remove(join(dir, "market_attribute.mat"));
    await writeText(
      dir,
      "market_attribute.json",
      JSON.stringify({ market_attribute: { train, test } }),
    );
    const fromJson = loadDataset("market1501", dir, quiet);
    assert.deepEqual(fromMat.attributeNames, fromJson.attributeNames);
    assert.equal(fromMat.attributeNames.length, 9 + 4 + 8 + 9);
    const g = fromMat.attributeNames.indexOf("gender");
    const red = fromMat.attributeNames.indexOf("upred");
    const im7 = fromMat.images.find((im) => im.pid === 7)!;
    assert.equal(im7.attributes![g], 0); // second id in train: gender 1 (male)
    assert.equal(fromMat.images.find((im) => im.pid === 2)!.attributes![g], 1);
    assert.equal(im7.attributes![red], 1);
    assert.equal(im7.attributes![fromMat.attributeNames.indexOf("teenager")], 1);
    assert.deepEqual(fromMat.attributeGroups.upper_color.length, 8);
    for (let i = 0; i < fromMat.images.length; i++) {
      assert.deepEqual(fromMat.images[i].attributes, fromJson.images[i].attributes);
    }
    assert.equal(fromMat.images.filter((im) => im.pid <= 0 && im.attributes).length, 0);
  });
});

Deno.test("market1501: attribute file errors name the file and the problem", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, MARKET_FILES);
    const value = () => 1;
    const write = (train: unknown, test: unknown) =>
      writeText(
        dir,
        "market_attribute.json",
        JSON.stringify({ market_attribute: { train, test } }),
      );
    await write(marketAttributePart(["0002"], value), marketAttributePart(["0001", "0003"], value));
    assert.throws(
      () => loadDataset("market1501", dir, quiet),
      (e: Error) =>
        e instanceof AnnotationError && /market_attribute\.json/.test(e.message) &&
        /\b7\b/.test(e.message),
    );
    const short = marketAttributePart(["0002", "0007"], value);
    (short.hat as number[]).pop();
    await write(short, marketAttributePart(["0001", "0003"], value));
    assert.throws(
      () => loadDataset("market1501", dir, quiet),
      /train\.hat has 1 labels but image_index has 2/,
    );
    const bad = marketAttributePart(["0002", "0007"], value);
    (bad.age as number[])[0] = 7;
    await write(bad, marketAttributePart(["0001", "0003"], value));
    assert.throws(
      () => loadDataset("market1501", dir, quiet),
      /age\[0\].*expected an integer in 1\.\.4/,
    );
  });
});

Deno.test("market1501: wrong layout and bad names fail with the expected and found trees", async () => {
  await withTempDir(async (dir) => {
    await writeTree(dir, ["Market/bounding_box_train/0002_c1s1_000451_03.jpg"]);
    assert.throws(
      () => loadDataset("market1501", dir, quiet),
      (e: Error) =>
        e instanceof LayoutError && /expected:/.test(e.message) &&
        /bounding_box_test\//.test(e.message) &&
        /found:/.test(e.message) && /Market\//.test(e.message),
    );
    await writeTree(join(dir, "Market"), [
      "query/0001_c1s1_001051_00.jpg",
      "bounding_box_test/x.jpg",
    ]);
    assert.throws(
      () => loadDataset("market1501", join(dir, "Market"), quiet),
      /bounding_box_test\/x\.jpg: file name does not match/,
    );
  });
});

Deno.test("dukemtmc: names and 8 cameras; camera outside the range is an error", async () => {
  await withTempDir(async (dir) => {
    const rel = join(dir, "DukeMTMC-reID");
    await writeTree(rel, [
      "bounding_box_train/0001_c2_f0046182.jpg",
      "bounding_box_train/0001_c8_f0046999.jpg",
      "query/0005_c2_f0046985.jpg",
      "bounding_box_test/0005_c7_f0047011.jpg",
    ]);
    const ds = loadDataset("dukemtmc_reid", dir, quiet);
    assert.deepEqual(ds.images.map((im) => [im.pid, im.camid, im.split]), [
      [1, 2, "train"],
      [1, 8, "train"],
      [5, 2, "query"],
      [5, 7, "gallery"],
    ]);
    assert.equal(ds.images[0].meta!.frame, 46182);
    await writeTree(rel, ["query/0005_c9_f0046985.jpg"]);
    assert.throws(() => loadDataset("dukemtmc_reid", dir, quiet), /camera 9 outside 1\.\.8/);
  });
});

Deno.test("peta: per-source keys and vocabularies merged; seeded split saved and reused", async () => {
  await withTempDir(async (dir) => {
    const peta = join(dir, "PETA dataset");
    const files: string[] = [];
    for (let i = 1; i <= 10; i++) {
      files.push(`3DPeS/archive/${100 + (i % 4)}_${i}_FRAME_26_RGB.png`);
    }
    for (let i = 1; i <= 10; i++) files.push(`CUHK/archive/${String(i).padStart(4, "0")}.png`);
    await writeTree(peta, files);
    await writeText(
      peta,
      "3DPeS/archive/Label.txt",
      "100 personalMale upperBodyBlack\n101 personalFemale upperBodyRed hairLong\n102 personalMale upperBodyBlack\n103 personalMale lowerBodyBlue\n",
    );
    await writeText(
      peta,
      "CUHK/archive/Label.txt",
      Array.from(
        { length: 10 },
        (_, i) => `${String(i + 1).padStart(4, "0")}.png personalFemale accessoryHat`,
      ).join("\n"),
    );
    const ds = loadDataset("peta", dir, { ...quiet, seed: 3 });
    assert.equal(ds.images.length, 20);
    assert.deepEqual(ds.attributeNames, [
      "accessoryHat",
      "hairLong",
      "lowerBodyBlue",
      "personalFemale",
      "personalMale",
      "upperBodyBlack",
      "upperBodyRed",
    ]);
    assert.deepEqual(ds.attributeGroups.upperBody_color, [5, 6]);
    const p101 = ds.images.find((im) => im.meta!.key === "101")!;
    assert.deepEqual([...p101.attributes!], [0, 1, 0, 1, 0, 0, 1]);
    assert.equal(
      new Set(ds.images.filter((im) => im.meta!.source === "3DPeS").map((im) => im.pid)).size,
      4,
    );
    assert.equal(
      new Set(ds.images.filter((im) => im.meta!.source === "CUHK").map((im) => im.pid)).size,
      10,
    );
    const counts = (d: typeof ds) =>
      ["train", "val", "test"].map((s) => d.images.filter((im) => im.split === s).length);
    assert.deepEqual(counts(ds), [10, 2, 8]);
    const splitFile = join(peta, "splits_seed3.json");
    const saved = await Deno.readTextFile(splitFile);
    const again = loadDataset("peta", dir, { ...quiet, seed: 3 });
    assert.deepEqual(again.images.map((im) => im.split), ds.images.map((im) => im.split));
    assert.equal(await Deno.readTextFile(splitFile), saved);
    assert.ok(again.notes!.some((n) => n.startsWith("reused")));
    const other = loadDataset("peta", dir, { ...quiet, seed: 4 });
    assert.notDeepEqual(other.images.map((im) => im.split), ds.images.map((im) => im.split));
    await writeTree(peta, ["CUHK/archive/0099.png"]);
    assert.throws(
      () => loadDataset("peta", dir, quiet),
      (e: Error) =>
        e instanceof AnnotationError && /CUHK\/archive\/Label\.txt/.test(e.message) &&
        /0099\.png/.test(e.message),
    );
  });
});

Deno.test("sysu_mm01: id lists, IR cameras, seeded single-shot gallery trials", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "SYSU-MM01");
    const files: string[] = [];
    for (const pid of [1, 2, 3, 4]) {
      for (const cam of [1, 2, 3, 4, 5, 6]) {
        if (pid === 2 && cam === 4) continue;
        for (let n = 1; n <= 3; n++) {
          files.push(`cam${cam}/${String(pid).padStart(4, "0")}/${String(n).padStart(4, "0")}.jpg`);
        }
      }
    }
    await writeTree(root, files);
    await writeText(root, "exp/train_id.txt", "1\n");
    await writeText(root, "exp/val_id.txt", "2");
    await writeText(root, "exp/test_id.txt", "3,4");
    const ds = loadDataset("sysu_mm01", dir, { ...quiet, seed: 7, trials: 3 });
    assert.equal(ds.images.length, files.length);
    assert.ok(
      ds.images.every((im) => (im.modality === "ir") === (im.camid === 3 || im.camid === 6)),
    );
    assert.deepEqual([...new Set(ds.images.map((im) => `${im.pid}:${im.split}`))].sort(), [
      "1:train",
      "2:val",
      "3:all",
      "4:all",
    ]);
    assert.equal(ds.trials!.length, 6);
    const all = ds.trials![0];
    assert.equal(all.name, "all-search/1");
    assert.equal(all.query.length, 2 * 2 * 3);
    assert.ok(all.query.every((i) => ds.images[i].modality === "ir" && ds.images[i].pid >= 3));
    assert.equal(all.gallery.length, 2 * 4);
    const keys = all.gallery.map((i) => `${ds.images[i].pid}/${ds.images[i].camid}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(ds.trials![3].gallery.every((i) => [1, 2].includes(ds.images[i].camid)));
    assert.equal(all.train.length, 3 * 6 * 2 - 3);
    const again = loadDataset("sysu_mm01", dir, { ...quiet, seed: 7, trials: 3 });
    assert.deepEqual(again.trials, ds.trials);
    assert.equal(ds.attributeNames.length, 0);
    // PAENet's attribute release: 8 × N per camera, all-ones column = unlabelled pair.
    for (const cam of [1, 2, 3, 4, 5, 6]) {
      const data = new Array(8 * 3).fill(1);
      for (const pid of [1, 3]) {
        for (let a = 0; a < 8; a++) data[(pid - 1) * 8 + a] = (pid + a + cam) % 2;
      }
      const mat = writeMat5([[`cam${cam}_att`, { kind: "double", rows: 8, cols: 3, data }]]);
      await Deno.mkdir(join(root, "sysu_attribute"), { recursive: true });
      await Deno.writeFile(join(root, "sysu_attribute", `cam${cam}_att.mat`), mat);
    }
    const withAttrs = loadDataset("sysu_mm01", dir, { ...quiet, seed: 7, trials: 3 });
    assert.equal(withAttrs.attributeNames[6], "backpack");
    const im3 = withAttrs.images.find((im) => im.pid === 3 && im.camid === 6)!;
    assert.deepEqual([...im3.attributes!], [1, 0, 1, 0, 1, 0, 1, 0]); // (3 + a + 6) % 2
    assert.ok(
      withAttrs.images.filter((im) => im.pid === 2 || im.pid === 4).every((im) => !im.attributes),
    );
    assert.ok(withAttrs.notes!.some((n) => /unlabelled \(id, camera\) pairs kept/.test(n)));
    await Deno.writeFile(
      join(root, "sysu_attribute", "cam2_att.mat"),
      writeMat5([["cam2_att", {
        kind: "double",
        rows: 8,
        cols: 1,
        data: [0, 1, 2, 0, 0, 0, 0, 0],
      }]]),
    );
    assert.throws(
      () => loadDataset("sysu_mm01", dir, quiet),
      /cam2_att\.mat: label 2 at row 3, column 1/,
    );
    await Deno.remove(join(root, "sysu_attribute"), { recursive: true });
    await writeText(root, "exp/val_id.txt", "2,3");
    assert.throws(
      () => loadDataset("sysu_mm01", dir, quiet),
      /test_id\.txt: id 3 is also listed in exp\/val_id\.txt/,
    );
    await writeText(root, "exp/val_id.txt", "2,x");
    assert.throws(() => loadDataset("sysu_mm01", dir, quiet), /val_id\.txt: "x" is not an id/);
    await Deno.remove(join(root, "cam6"), { recursive: true });
    assert.throws(
      () => loadDataset("sysu_mm01", dir, quiet),
      (e: Error) => e instanceof LayoutError && /cam1\/ … cam6\//.test(e.message),
    );
  });
});

Deno.test("regdb: idx trials both directions, labels checked; seeded trials without idx/", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "RegDB");
    const files: string[] = [];
    for (const pid of [1, 2, 3, 4]) {
      for (let n = 1; n <= 2; n++) {
        files.push(
          `Visible/${pid}/female_back_v_0000${n}_${pid}.bmp`,
          `Thermal/${pid}/female_back_t_0000${n}_${pid}.bmp`,
        );
      }
    }
    await writeTree(root, files);
    const lines = (mod: "Visible" | "Thermal", pids: number[]) =>
      files.filter((f) => f.startsWith(mod) && pids.includes(Number(f.split("/")[1])))
        .map((f) => `${f} ${Number(f.split("/")[1]) - 1}`).join("\n");
    await writeText(root, "idx/train_visible_1.txt", lines("Visible", [1, 2]));
    await writeText(root, "idx/train_thermal_1.txt", lines("Thermal", [1, 2]));
    await writeText(root, "idx/test_visible_1.txt", lines("Visible", [3, 4]));
    await writeText(root, "idx/test_thermal_1.txt", lines("Thermal", [3, 4]));
    const ds = loadDataset("regdb", dir, quiet);
    assert.equal(ds.images.length, 16);
    assert.deepEqual(ds.trials!.map((t) => t.name), [
      "trial1/visible-to-thermal",
      "trial1/thermal-to-visible",
    ]);
    const t = ds.trials![0];
    assert.ok(t.query.every((i) => ds.images[i].modality === "rgb" && ds.images[i].camid === 1));
    assert.ok(t.gallery.every((i) => ds.images[i].modality === "ir" && ds.images[i].pid >= 3));
    assert.equal(t.train.length, 8);
    await writeText(root, "idx/test_thermal_1.txt", lines("Thermal", [3, 4]).replace(/ 3$/m, " 2"));
    assert.throws(
      () => loadDataset("regdb", dir, quiet),
      /test_thermal_1\.txt:\d+: label 2 is given to ids 3 and 4/,
    );
    await writeText(root, "idx/test_thermal_1.txt", "Thermal/9/none.bmp 0");
    assert.throws(
      () => loadDataset("regdb", dir, quiet),
      /Thermal\/9\/none\.bmp is not an image of the dataset/,
    );
    await Deno.remove(join(root, "idx"), { recursive: true });
    const drawn = loadDataset("regdb", dir, { ...quiet, seed: 1 });
    assert.equal(drawn.trials!.length, 20);
    assert.equal(new Set(drawn.trials![0].query.map((i) => drawn.images[i].pid)).size, 2);
    assert.ok(await Deno.stat(join(root, "splits_seed1.json")));
  });
});

Deno.test("viper: ids from names, same ids in both cameras, seeded halves both directions", async () => {
  await withTempDir(async (dir) => {
    const ids = ["000", "002", "005", "011", "013", "021"];
    await writeTree(join(dir, "VIPeR"), [
      ...ids.map((p) => `cam_a/${p}_45.bmp`),
      ...ids.map((p) => `cam_b/${p}_90.bmp`),
    ]);
    const ds = loadDataset("viper", dir, { ...quiet, seed: 2, splits: 4 });
    assert.equal(ds.trials!.length, 8);
    const t = ds.trials![0];
    assert.equal(t.train.length, 6);
    assert.deepEqual(
      t.query.map((i) => ds.images[i].pid).sort(),
      t.gallery.map((i) => ds.images[i].pid).sort(),
    );
    assert.ok(t.query.every((i) => ds.images[i].camid === 1));
    assert.deepEqual(ds.trials![1].query, t.gallery);
    assert.equal(ds.images[0].meta!.angle, 45);
    assert.match(summarize(ds), /all\s+6\s+12\s+1,2\s+12\s+0\s+0\s+0/, "id 000 is a person");
    const trainIds = new Set(t.train.map((i) => ds.images[i].pid));
    assert.ok(t.query.every((i) => !trainIds.has(ds.images[i].pid)));
    await Deno.remove(join(dir, "VIPeR", "cam_b", "005_90.bmp"));
    assert.throws(() => loadDataset("viper", dir, quiet), /only in cam_a: 5/);
  });
});

Deno.test("prid2011: shared persons, cam_b-only distractors in the gallery, cam_a-only kept apart", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "prid_2011");
    const a = [1, 2, 3, 4, 5, 6, 7].map((n) =>
      `single_shot/cam_a/person_${String(n).padStart(4, "0")}.png`
    );
    const b = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) =>
      `single_shot/cam_b/person_${String(n).padStart(4, "0")}.png`
    );
    await writeTree(root, [...a, ...b]);
    const ds = loadDataset("prid2011", dir, { ...quiet, sharedIds: 4, splits: 3 });
    const aOnly = ds.images.filter((im) => im.camid === 1 && (im.meta!.person as number) > 4);
    assert.deepEqual(aOnly.map((im) => im.pid), [5, 6, 7].map((n) => PRID_CAM_A_ONLY_OFFSET + n));
    const t = ds.trials![0];
    assert.equal(t.train.length, 4);
    assert.equal(t.query.length, 2);
    assert.equal(t.gallery.length, 2 + 5);
    assert.ok(t.gallery.every((i) => ds.images[i].camid === 2));
    assert.ok(
      [...t.train, ...t.query, ...t.gallery].every((i) =>
        ds.images[i].pid < PRID_CAM_A_ONLY_OFFSET
      ),
    );
    assert.throws(() => loadDataset("prid2011", dir, quiet), /lacks shared person\(s\) 8, 9, 10/);
  });
});
