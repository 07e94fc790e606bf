import assert from "node:assert/strict";
import { join, relative } from "node:path";
import {
  type MatCell,
  type MatChar,
  type MatNumeric,
  type MatStruct,
  readMat,
} from "../loaders/matv5.ts";
import type { DatasetTrial } from "../types.ts";
import { doubleRow, type MatValue, stringCellRow, writeMat5 } from "./mat5.ts";
import { DEFAULT_CONFIGS, type PresetConfigs, type PresetName } from "../world/presets.ts";
import { MARKET1501_SCHEMA, PETA_SCHEMA } from "../world/schemas.ts";
import { readImageFile } from "../world/encode.ts";
import {
  type DatasetPlan,
  executePlan,
  planPreset,
  readTruth,
  renderShard,
  TRUTH_FILE,
  writeAnnotations,
} from "./mod.ts";
import { MARKET_ATTRIBUTE_FIELDS } from "./market_duke.ts";
import { PRID_CAM_A_ONLY_OFFSET } from "./two_camera.ts";

/** Tiny versions of every preset, so each layout is written in well under a second. */
const TINY: PresetConfigs = {
  market1501: {
    ...DEFAULT_CONFIGS.market1501,
    height: 64,
    width: 32,
    trainIds: 5,
    testIds: 4,
    trainImages: [2, 3],
    queriesPerId: 2,
    galleryPerId: 2,
    distractorImages: 2,
    junkImages: 2,
  },
  dukemtmc_reid: {
    ...DEFAULT_CONFIGS.dukemtmc_reid,
    height: 64,
    width: 32,
    trainIds: 4,
    testIds: 3,
    trainImages: [2, 2],
    galleryPerId: 2,
    galleryOnlyIds: 2,
  },
  peta: { ...DEFAULT_CONFIGS.peta, categories: 6, extraPersonsMean: 0.5, extraImagesMean: 0.3 },
  sysu_mm01: {
    ...DEFAULT_CONFIGS.sysu_mm01,
    height: 64,
    width: 32,
    trainIds: 3,
    valIds: 1,
    testIds: 3,
    maxId: 12,
    trainRgbPerCam: 1,
    trainIrPerCam: 1,
    testRgbPerCam: 2,
    testIrPerCam: 1,
  },
  regdb: { ...DEFAULT_CONFIGS.regdb, height: 64, width: 32, ids: 4, imagesPerId: 2, trials: 2 },
  viper: { ...DEFAULT_CONFIGS.viper, height: 64, width: 24, sharedIds: 3 },
  prid2011: {
    ...DEFAULT_CONFIGS.prid2011,
    height: 64,
    width: 32,
    sharedIds: 2,
    onlyA: 1,
    onlyB: 2,
  },
};

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out.sort();
}

/** Writes a tiny preset into a fresh temp dir; returns the plan, its folder and the release's file list. */
async function write(
  preset: PresetName,
  seed = 1,
): Promise<{ plan: DatasetPlan; dir: string; release: string; files: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: `writer_${preset}_` });
  const plan = planPreset(preset, TINY[preset], seed);
  await executePlan(plan, dir);
  const release = join(dir, plan.releaseDir);
  return { plan, dir, release, files: await listFiles(release) };
}

const imagesOf = (files: string[]) => files.filter((f) => /\.(jpg|png|bmp)$/.test(f));

/** Every image on disk is in the truth and vice versa; returns truth images by path. */
async function checkTruthMatchesDisk(dir: string, files: string[]) {
  const truth = await readTruth(dir);
  const rel = truth.images.map((im) => relative(truth.root, im.path)).sort();
  assert.deepEqual(rel, imagesOf(files));
  return new Map(truth.images.map((im) => [relative(truth.root, im.path), im]));
}

Deno.test("market1501 writer: release layout, file-name rules, junk/distractors, attribute file", async () => {
  const { plan, dir, files } = await write("market1501");
  try {
    const truth = await checkTruthMatchesDisk(dir, files);
    const folders = new Set(imagesOf(files).map((f) => f.split("/")[0]));
    assert.deepEqual([...folders].sort(), ["bounding_box_test", "bounding_box_train", "query"]);
    const re = /^(-1|\d{4})_c([1-6])s([1-6])_(\d{6})_(\d{2})\.jpg$/;
    for (const f of imagesOf(files)) {
      const [folder, name] = f.split("/");
      const m = name.match(re);
      assert.ok(m, `bad Market name ${f}`);
      const im = truth.get(f)!;
      assert.equal(im.pid, Number(m[1]), f);
      assert.equal(im.camid, Number(m[2]), f);
      assert.equal(
        im.split,
        { bounding_box_train: "train", query: "query", bounding_box_test: "gallery" }[folder],
      );
      if (im.pid <= 0) {
        assert.equal(folder, "bounding_box_test", "junk and distractors only in the gallery");
      }
      assert.equal(im.attributes === undefined, im.pid <= 0);
    }
    const count = (pid: number) => [...truth.values()].filter((im) => im.pid === pid).length;
    assert.equal(count(0), 2);
    assert.equal(count(-1), 2);
    // Every query has a same-id gallery image from another camera.
    for (const q of [...truth.values()].filter((im) => im.split === "query")) {
      assert.ok(
        [...truth.values()].some((g) =>
          g.split === "gallery" && g.pid === q.pid && g.camid !== q.camid
        ),
        `query ${q.path}`,
      );
    }
    // The .mat (read by the project's loader-side reader) and its JSON mirror agree with the truth.
    const mat = readMat(await Deno.readFile(join(dir, plan.releaseDir, "market_attribute.mat")));
    const json = JSON.parse(
      await Deno.readTextFile(join(dir, plan.releaseDir, "market_attribute.json")),
    );
    const top = mat.market_attribute as MatStruct;
    for (const sub of ["train", "test"]) {
      const s = top.items[0][sub] as MatStruct;
      assert.deepEqual(s.fields, [...MARKET_ATTRIBUTE_FIELDS, "image_index"]);
      const ids = (s.items[0].image_index as MatCell).items.map((c) => (c as MatChar).text);
      assert.deepEqual(ids, json.market_attribute[sub].image_index);
      for (const field of MARKET_ATTRIBUTE_FIELDS) {
        const values = Array.from((s.items[0][field] as MatNumeric).data);
        assert.deepEqual(values, json.market_attribute[sub][field]);
        for (const v of values) {
          assert.ok(field === "age" ? v >= 1 && v <= 4 : v === 1 || v === 2, `${field}=${v}`);
        }
      }
      ids.forEach((id, k) => {
        const im = [...truth.values()].find((x) => x.pid === Number(id))!;
        assert.ok(im, `annotated id ${id} has images`);
        for (const field of MARKET_ATTRIBUTE_FIELDS) {
          const code = json.market_attribute[sub][field][k];
          if (field === "age") assert.equal(im.attributes![code - 1], 1, `${id} age`);
          else {assert.equal(
              im.attributes![MARKET1501_SCHEMA.names.indexOf(field)],
              code - 1,
              `${id} ${field}`,
            );}
        }
      });
    }
    const trainIds = new Set(
      [...truth.values()].filter((im) => im.split === "train").map((im) => im.pid),
    );
    assert.deepEqual(
      json.market_attribute.train.image_index.map(Number),
      [...trainIds].sort((a, b) => a - b),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dukemtmc_reid writer: names, gallery-only ids with attributes, duke_attribute files", async () => {
  const { plan, dir, files } = await write("dukemtmc_reid");
  try {
    const truth = await checkTruthMatchesDisk(dir, files);
    for (const f of imagesOf(files)) {
      const m = f.split("/")[1].match(/^(\d{4})_c([1-8])_f(\d{7})\.jpg$/);
      assert.ok(m, `bad Duke name ${f}`);
      assert.equal(truth.get(f)!.pid, Number(m[1]));
      assert.equal(truth.get(f)!.camid, Number(m[2]));
    }
    const json = JSON.parse(
      await Deno.readTextFile(join(dir, plan.releaseDir, "duke_attribute.json")),
    );
    const queryIds = new Set(
      [...truth.values()].filter((im) => im.split === "query").map((im) => im.pid),
    );
    const galleryIds = new Set(
      [...truth.values()].filter((im) => im.split === "gallery").map((im) => im.pid),
    );
    assert.equal(galleryIds.size, 3 + 2, "test ids plus gallery-only ids");
    assert.deepEqual(
      json.duke_attribute.test.image_index.map(Number),
      [...galleryIds].sort((a, b) => a - b),
    );
    for (const id of queryIds) assert.ok(galleryIds.has(id));
    assert.ok(
      readMat(await Deno.readFile(join(dir, plan.releaseDir, "duke_attribute.mat"))).duke_attribute,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("peta writer: <SOURCE>/archive/ images and Label.txt lines '<pid> <label> …'", async () => {
  const { dir, files } = await write("peta");
  try {
    const truth = await checkTruthMatchesDisk(dir, files);
    for (const f of imagesOf(files)) assert.match(f, /^[^/]+\/archive\/\d+_\d+\.(bmp|jpg|png)$/);
    const byKey = new Map<string, string[]>();
    for (const f of files.filter((f) => f.endsWith("Label.txt"))) {
      const source = f.split("/")[0];
      for (
        const line of (await Deno.readTextFile(join(dir, "PETA dataset", f))).trim().split("\n")
          .filter(Boolean)
      ) {
        const [pid, ...labels] = line.split(" ");
        assert.match(pid, /^\d+$/);
        for (const l of labels) assert.ok(PETA_SCHEMA.names.includes(l), `unknown PETA label ${l}`);
        byKey.set(`${source}/${pid}`, labels);
      }
    }
    for (const [path, im] of truth) {
      const labels = byKey.get(`${path.split("/")[0]}/${im.pid}`);
      assert.ok(labels, `${path} has a Label.txt line`);
      assert.deepEqual(PETA_SCHEMA.names.filter((_, i) => im.attributes![i] === 1), labels);
    }
    // Images of one category share the attribute vector; PETA sources keep their own image sizes.
    const sizes = new Set<string>();
    for (const f of imagesOf(files).slice(0, 12)) {
      const img = await readImageFile(join(dir, "PETA dataset", f));
      sizes.add(`${img.width}x${img.height}`);
    }
    assert.ok(sizes.size >= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sysu_mm01 writer: cam<k>/<id>/<n>.jpg, exp id lists, per-camera attribute mats, gray IR", async () => {
  const { plan, dir, release, files } = await write("sysu_mm01");
  try {
    const truth = await checkTruthMatchesDisk(dir, files);
    for (const f of imagesOf(files)) {
      const m = f.match(/^cam([1-6])\/(\d{4})\/(\d{4})\.jpg$/);
      assert.ok(m, `bad SYSU path ${f}`);
      const im = truth.get(f)!;
      assert.equal(im.camid, Number(m[1]));
      assert.equal(im.pid, Number(m[2]));
      assert.equal(im.modality, m[1] === "3" || m[1] === "6" ? "ir" : "rgb");
    }
    const ids = async (name: string) => {
      const text = await Deno.readTextFile(join(release, "exp", name));
      assert.match(text, /^\d+(,\d+)*\n$/, `${name} is one comma-separated line`);
      return text.trim().split(",").map(Number);
    };
    const [train, val, test, available] = await Promise.all(
      ["train_id.txt", "val_id.txt", "test_id.txt", "available_id.txt"].map(ids),
    );
    assert.equal(train.length, 3);
    assert.equal(val.length, 1);
    assert.equal(test.length, 3);
    assert.deepEqual([...train, ...val, ...test].sort((a, b) => a - b), available);
    for (const im of truth.values()) {
      assert.equal(
        im.split,
        train.includes(im.pid) ? "train" : val.includes(im.pid) ? "val" : "all",
      );
    }
    for (const pid of available) {
      const mods = new Set(
        [...truth.values()].filter((im) => im.pid === pid).map((im) => im.modality),
      );
      assert.deepEqual([...mods].sort(), ["ir", "rgb"], `id ${pid} is seen in both modalities`);
    }
    for (let cam = 1; cam <= 6; cam++) {
      const m = readMat(
        await Deno.readFile(join(release, `sysu_attribute/cam${cam}_att.mat`)),
      )[`cam${cam}_att`] as MatNumeric;
      assert.equal(m.dims[0], 8);
      for (let pid = 1; pid <= m.dims[1]; pid++) {
        const col = Array.from(m.data.slice((pid - 1) * 8, pid * 8));
        const im = [...truth.values()].find((x) => x.pid === pid && x.camid === cam);
        if (im) assert.deepEqual(col, Array.from(im.attributes!), `cam${cam} id ${pid}`);
        else {assert.deepEqual(
            col,
            [1, 1, 1, 1, 1, 1, 1, 1],
            `absent pair cam${cam} id ${pid} is all ones`,
          );}
      }
    }
    const irJob = plan.jobs.find((j) => j.camera.modality === "ir")!;
    const ir = await readImageFile(join(release, irJob.path));
    for (let i = 0; i < ir.data.length; i += 3) {
      assert.ok(ir.data[i] === ir.data[i + 1] && ir.data[i] === ir.data[i + 2]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("regdb writer: Visible/Thermal folders, idx lists per trial, aligned pairs", async () => {
  const { dir, release, files } = await write("regdb");
  try {
    const truth = await checkTruthMatchesDisk(dir, files);
    for (const f of imagesOf(files)) {
      const m = f.match(
        /^(Visible|Thermal)\/(\d+)\/(female|male)_(front|back|side)_([vt])_(\d{5})_(\d+)\.bmp$/,
      );
      assert.ok(m, `bad RegDB path ${f}`);
      assert.equal(truth.get(f)!.pid, Number(m[2]));
      assert.equal(truth.get(f)!.modality, m[1] === "Visible" ? "rgb" : "ir");
      assert.equal(m[5], m[1] === "Visible" ? "v" : "t");
      // Simultaneous capture: the thermal twin has the same frame, index and view.
      if (m[1] === "Visible") {
        assert.ok(
          files.includes(f.replace("Visible/", "Thermal/").replace("_v_", "_t_")),
          `pair of ${f}`,
        );
      }
    }
    const t = await readTruth(dir);
    assert.equal(t.trials?.length, 2);
    for (let trial = 1; trial <= 2; trial++) {
      const read = async (name: string) =>
        (await Deno.readTextFile(join(release, "idx", `${name}_${trial}.txt`))).trim().split("\n")
          .map((l) => {
            const m = l.match(/^(\S+) (\d+)$/);
            assert.ok(m, `bad idx line "${l}"`);
            assert.ok(files.includes(m[1]), `${m[1]} exists`);
            return { path: m[1], label: Number(m[2]), pid: Number(m[1].split("/")[1]) };
          });
      const lists = await Promise.all(
        ["train_visible", "train_thermal", "test_visible", "test_thermal"].map(read),
      );
      for (const l of lists) {
        const pids = [...new Set(l.map((x) => x.pid))].sort((a, b) => a - b);
        for (const x of l) {
          assert.equal(
            x.label,
            pids.indexOf(x.pid),
            "labels are the id's 0-based rank in the file",
          );
        }
      }
      const trainIds = new Set(lists[0].map((x) => x.pid));
      for (const x of lists[2]) assert.ok(!trainIds.has(x.pid), "train and test ids are disjoint");
      const tr: DatasetTrial = t.trials![trial - 1];
      assert.deepEqual(
        tr.query.map((i) => relative(t.root, t.images[i].path)).sort(),
        lists[2].map((x) => x.path).sort(),
      );
      assert.deepEqual(
        tr.gallery.map((i) => relative(t.root, t.images[i].path)).sort(),
        lists[3].map((x) => x.path).sort(),
      );
    }
    assert.equal(truth.size, 4 * 2 * 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("viper and prid2011 writers: cam_a/cam_b names, shared and extra persons", async () => {
  const v = await write("viper");
  const p = await write("prid2011");
  try {
    const vt = await checkTruthMatchesDisk(v.dir, v.files);
    assert.equal(v.files.length, 6);
    for (const f of v.files) {
      const m = f.match(/^cam_([ab])\/(\d{3})_(0|90|180|270)\.bmp$/);
      assert.ok(m, `bad VIPeR name ${f}`);
      assert.equal(vt.get(f)!.pid, Number(m[2]));
      assert.equal(vt.get(f)!.camid, m[1] === "a" ? 1 : 2);
    }
    const img = await readImageFile(join(v.release, v.files[0]));
    assert.deepEqual([img.width, img.height], [24, 64]);
    const pt = await checkTruthMatchesDisk(p.dir, p.files);
    assert.deepEqual(p.files.filter((f) => f.includes("cam_a")), [
      "single_shot/cam_a/person_0001.png",
      "single_shot/cam_a/person_0002.png",
      "single_shot/cam_a/person_0003.png",
    ]);
    assert.equal(p.files.filter((f) => f.includes("cam_b")).length, 4);
    assert.equal(
      pt.get("single_shot/cam_a/person_0002.png")!.pid,
      pt.get("single_shot/cam_b/person_0002.png")!.pid,
    );
    assert.equal(pt.get("single_shot/cam_a/person_0003.png")!.pid, PRID_CAM_A_ONLY_OFFSET + 3);
    assert.equal(pt.get("single_shot/cam_b/person_0003.png")!.pid, 3);
  } finally {
    await Deno.remove(v.dir, { recursive: true });
    await Deno.remove(p.dir, { recursive: true });
  }
});

Deno.test("writers: same seed gives byte-identical files whatever the sharding; another seed differs", async () => {
  const a = await write("sysu_mm01", 5);
  const dir = await Deno.makeTempDir({ prefix: "writer_shards_" });
  const c = await write("sysu_mm01", 6);
  try {
    const plan = planPreset("sysu_mm01", TINY.sysu_mm01, 5);
    const release = join(dir, plan.releaseDir);
    // Three shards, rendered last-first: file contents must not depend on order or shard count.
    for (const shard of [2, 1, 0]) await renderShard(plan.jobs, release, shard, 3);
    await writeAnnotations(plan, dir);
    assert.deepEqual(await listFiles(release), a.files);
    for (const f of a.files) {
      assert.deepEqual(
        await Deno.readFile(join(release, f)),
        await Deno.readFile(join(a.release, f)),
        f,
      );
    }
    assert.equal(
      await Deno.readTextFile(join(dir, TRUTH_FILE)),
      await Deno.readTextFile(join(a.dir, TRUTH_FILE)),
    );
    const shared = a.files.filter((f) => f.endsWith(".jpg") && c.files.includes(f));
    let differ = 0;
    for (const f of shared) {
      if (
        (await Deno.readFile(join(a.release, f))).toString() !==
          (await Deno.readFile(join(c.release, f))).toString()
      ) differ++;
    }
    assert.ok(a.files.join() !== c.files.join() || differ > 0, "another seed gives other data");
    assert.equal(differ, shared.length, "no image is the same under another seed");
  } finally {
    for (const d of [a.dir, dir, c.dir]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("writeMat5: a compressed file reads back as the plain one", () => {
  const vars: [string, MatValue][] = [
    ["att", { kind: "uint8", rows: 2, cols: 3, data: [1, 0, 1, 1, 2, 0] }],
    ["s", {
      kind: "struct",
      fields: [["ids", stringCellRow(["0001", "0002"])], ["v", doubleRow([0.5, 2])]],
    }],
  ];
  const plain = writeMat5(vars);
  const packed = writeMat5(vars, { compress: true });
  assert.equal(new DataView(packed.buffer).getUint32(128, true), 15, "miCOMPRESSED");
  assert.deepEqual(readMat(packed), readMat(plain));
  assert.deepEqual((readMat(plain).att as MatNumeric).data, Float64Array.from([1, 0, 1, 1, 2, 0]));
});
