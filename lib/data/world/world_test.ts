import assert from "node:assert/strict";
import { Rng } from "../../runtime/random.ts";
import { DEFAULT_PRIORS, sampleAttributes, type WorldAttributes } from "./attributes.ts";
import { pooledAttributes } from "./attribute_pool.ts";
import { PALETTE } from "./colors.ts";
import { decodeBmp, encodeBmp } from "./encode.ts";
import { DEFAULT_APPEARANCE, type Identity, type IrCues, sampleIdentity } from "./identity.ts";
import { DEFAULT_CONFIGS } from "./presets.ts";
import { renderImage, type RgbImage } from "./render.ts";
import { type CameraModel, drawRgbCameras, MARKET_LIKE } from "./scene.ts";
import {
  DUKEMTMC_SCHEMA,
  MARKET1501_SCHEMA,
  PAENET_SCHEMA,
  PETA_35,
  PETA_SCHEMA,
  SCHEMAS,
} from "./schemas.ts";

const IR_CAM: CameraModel = DEFAULT_CONFIGS.sysu_mm01.cameras[2];
const RGB_CAM: CameraModel = DEFAULT_CONFIGS.sysu_mm01.cameras[3];

function render(id: Identity, camera: CameraModel, seed: number): Promise<RgbImage> {
  return renderImage({
    identity: id,
    camera,
    style: MARKET_LIKE,
    width: 32,
    height: 64,
    rng: new Rng(seed),
  });
}

Deno.test("render: the seed fixes every pixel; another seed changes them", async () => {
  const id = sampleIdentity(new Rng(3), "a");
  const a = await render(id, RGB_CAM, 11);
  const b = await render(sampleIdentity(new Rng(3), "a"), RGB_CAM, 11);
  assert.deepEqual(a.data, b.data);
  const c = await render(id, RGB_CAM, 12);
  assert.notDeepEqual(a.data, c.data);
  assert.equal(a.data.length, 32 * 64 * 3);
});

Deno.test("render: an image does not depend on what was rendered before it", async () => {
  const ids = [0, 1, 2].map((i) => sampleIdentity(new Rng(100 + i), `p${i}`));
  const inOrder = [];
  for (const [i, id] of ids.entries()) inOrder.push(await render(id, RGB_CAM, 50 + i));
  const reversed = [];
  for (const [i, id] of [...ids.entries()].reverse()) {
    reversed.unshift(await render(id, RGB_CAM, 50 + i));
  }
  const concurrent = await Promise.all(ids.map((id, i) => render(id, RGB_CAM, 50 + i)));
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(inOrder[i].data, reversed[i].data);
    assert.deepEqual(inOrder[i].data, concurrent[i].data);
  }
});

Deno.test("render: IR images are gray (R = G = B) and carry no hue of the clothes", async () => {
  const id = sampleIdentity(new Rng(7), "ir");
  const ir = await render(id, IR_CAM, 5);
  for (let i = 0; i < ir.data.length; i += 3) {
    assert.ok(
      ir.data[i] === ir.data[i + 1] && ir.data[i] === ir.data[i + 2],
      `pixel ${i / 3} is not gray`,
    );
  }
  // Same person and thermal levels, other visible colours: the thermal image must not change.
  const recoloured: Identity = {
    ...id,
    attributes: { ...id.attributes, upperColor: "red", lowerColor: "blue" },
    appearance: {
      ...id.appearance,
      upper: PALETTE.red,
      lower: PALETTE.blue,
      shoe: PALETTE.white,
      hat: PALETTE.green,
    },
  };
  assert.deepEqual((await render(recoloured, IR_CAM, 5)).data, ir.data);
  // The visible camera does see the change.
  assert.notDeepEqual(
    (await render(recoloured, RGB_CAM, 5)).data,
    (await render(id, RGB_CAM, 5)).data,
  );
  // Skin is warmer than the background: the brightest pixels sit on the person, not on the 0.18 wall.
  const max = Math.max(...ir.data);
  assert.ok(max > 0.6 * 255, `hottest IR pixel ${max} should be skin-bright`);
});

Deno.test("attributes: priors and correlations hold over 800 draws", () => {
  const rng = new Rng(2024);
  const draws: WorldAttributes[] = Array.from(
    { length: 800 },
    () => sampleAttributes(rng, DEFAULT_PRIORS),
  );
  const women = draws.filter((a) => a.female);
  const men = draws.filter((a) => !a.female);
  const rate = (xs: WorldAttributes[], f: (a: WorldAttributes) => boolean) =>
    xs.filter(f).length / xs.length;
  // Within 4 binomial standard errors of the configured probability.
  const near = (p: number, target: number, n: number, what: string) =>
    assert.ok(
      Math.abs(p - target) <= 4 * Math.sqrt((target * (1 - target)) / n) + 1e-9,
      `${what}: ${p} vs ${target}`,
    );
  near(women.length / draws.length, DEFAULT_PRIORS.female, draws.length, "P(female)");
  near(
    rate(women, (a) => a.hairLong),
    DEFAULT_PRIORS.hairLong.female,
    women.length,
    "P(long hair | female)",
  );
  near(
    rate(men, (a) => a.hairLong),
    DEFAULT_PRIORS.hairLong.male,
    men.length,
    "P(long hair | male)",
  );
  near(
    rate(women, (a) => a.handbag),
    DEFAULT_PRIORS.handbag.female,
    women.length,
    "P(handbag | female)",
  );
  near(rate(draws, (a) => a.backpack), DEFAULT_PRIORS.backpack, draws.length, "P(backpack)");
  assert.equal(rate(men, (a) => a.skirt), 0, "men never wear skirts under the default prior");
  assert.ok(
    rate(women, (a) => a.hairLong) - rate(men, (a) => a.hairLong) > 0.5,
    "long hair correlates with gender",
  );
  const black = rate(draws, (a) => a.upperColor === "black");
  const total = Object.values(DEFAULT_PRIORS.upperColor).reduce((s, v) => s + (v ?? 0), 0);
  near(black, DEFAULT_PRIORS.upperColor.black! / total, draws.length, "P(upper black)");
});

Deno.test("schemas: release lists have the right sizes, one-hot colour groups and release polarity", () => {
  assert.equal(MARKET1501_SCHEMA.names.length, 30);
  assert.equal(DUKEMTMC_SCHEMA.names.length, 23);
  assert.equal(PETA_SCHEMA.names.length, 105);
  assert.equal(PAENET_SCHEMA.names.length, 8);
  assert.equal(PETA_35.length, 35);
  for (const n of PETA_35) assert.ok(PETA_SCHEMA.names.includes(n), `${n} is a PETA attribute`);
  const rng = new Rng(9);
  for (let i = 0; i < 200; i++) {
    const a = sampleAttributes(rng, DEFAULT_PRIORS);
    for (const schema of [MARKET1501_SCHEMA, DUKEMTMC_SCHEMA, PETA_SCHEMA]) {
      const bits = schema.encode(a);
      for (const [group, idx] of Object.entries(schema.groups)) {
        assert.equal(
          idx.reduce((s, k) => s + bits[k], 0),
          1,
          `${schema.name} ${group} must be one-hot`,
        );
      }
    }
    const m = MARKET1501_SCHEMA.encode(a);
    assert.equal(m[MARKET1501_SCHEMA.names.indexOf("gender")], a.female ? 1 : 0);
    assert.equal(
      m[MARKET1501_SCHEMA.names.indexOf("up")],
      a.longSleeves ? 0 : 1,
      "Market up: 1 = short sleeve",
    );
    assert.equal(
      m[MARKET1501_SCHEMA.names.indexOf("clothes")],
      a.skirt ? 0 : 1,
      "Market clothes: 1 = pants",
    );
  }
  const a = sampleAttributes(new Rng(1), DEFAULT_PRIORS);
  assert.throws(
    () => MARKET1501_SCHEMA.encode({ ...a, upperColor: "orange" }),
    /upperColor "orange"/,
  );
  assert.deepEqual(Object.keys(SCHEMAS).sort(), [
    "aaipr19",
    "dukemtmc_reid",
    "market1501",
    "paenet8",
    "peta",
    "sal18",
    "tjaidl18",
  ]);
});

Deno.test("identity: appearance persists beyond attributes (same attributes, different people)", async () => {
  const rng = new Rng(77);
  const a = sampleIdentity(rng.fork("x"), "x");
  const b = { ...sampleIdentity(rng.fork("y"), "y"), attributes: a.attributes };
  assert.notDeepEqual(a.appearance.upper, b.appearance.upper);
  assert.notEqual(a.appearance.heightScale, b.appearance.heightScale);
  const cams = drawRgbCameras(new Rng(1), DEFAULT_CONFIGS.market1501.cameras, MARKET_LIKE);
  assert.equal(cams.length, 6);
  assert.notDeepEqual(cams[0].gain, cams[1].gain, "each camera has its own colour transform");
  assert.notDeepEqual((await render(a, cams[0], 3)).data, (await render(b, cams[0], 3)).data);
});

Deno.test("encode: BMP round-trips, including widths whose rows need padding", () => {
  const img = {
    width: 5,
    height: 3,
    data: Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 256),
  };
  const bytes = encodeBmp(img);
  assert.equal(bytes.length, 54 + 16 * 3);
  assert.deepEqual(decodeBmp(bytes), img);
  assert.throws(() => decodeBmp(new Uint8Array(10), "x.bmp"), /x\.bmp is not a BMP/);
});

Deno.test("attribute pool: persons share vectors as configured, overlap as configured", () => {
  const cfg = { trainVectors: 30, testVectors: 20, testOverlap: 0.5, zipf: 1.1 };
  const { train, test } = pooledAttributes(
    new Rng(4),
    cfg,
    DEFAULT_PRIORS,
    MARKET1501_SCHEMA,
    60,
    45,
  );
  const key = (a: WorldAttributes) => MARKET1501_SCHEMA.encode(a).join("");
  const trainKeys = new Set(train.map(key));
  const testKeys = new Set(test.map(key));
  assert.equal(train.length, 60);
  assert.equal(trainKeys.size, 30, "every pooled vector is worn, and only those");
  assert.equal(testKeys.size, 20);
  assert.equal(
    [...testKeys].filter((k) => trainKeys.has(k)).length,
    10,
    "half the test vectors are seen in training",
  );
  // Fields the schema does not see still vary between persons of one vector.
  const sameVector = train.filter((a) => key(a) === key(train[0]));
  const hidden = new Set(
    train.map((a) => `${a.glasses}${a.hairColor}${a.upperPattern}${a.shoeColor}`),
  );
  assert.ok(sameVector.length >= 1 && hidden.size > 5);
});

Deno.test("thermal coupling: the emissivity model of lib/papers/cmgan/README.md makes dark garments glow brighter; 0 changes nothing", () => {
  const ids = (coupling: number | undefined) =>
    Array.from(
      { length: 300 },
      (_, i) =>
        sampleIdentity(new Rng(7).fork(`p${i}`), `p${i}`, DEFAULT_PRIORS, {
          ...DEFAULT_APPEARANCE,
          ...(coupling === undefined ? {} : { thermalCoupling: coupling }),
        }),
    );
  const correlation = (people: Identity[]) => {
    const v = people.map((p) => Math.max(...p.appearance.upper));
    const t = people.map((p) => p.appearance.thermal.upper);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mv = mean(v), mt = mean(t);
    const cov = mean(v.map((x, i) => (x - mv) * (t[i] - mt)));
    const sd = (xs: number[], m: number) => Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
    return cov / (sd(v, mv) * sd(t, mt));
  };
  const independent = ids(undefined);
  assert.deepEqual(ids(0), independent);
  assert.ok(Math.abs(correlation(independent)) < 0.2, `r = ${correlation(independent)}`);
  const coupled = ids(1);
  assert.ok(correlation(coupled) < -0.7, `r = ${correlation(coupled)}`);
  // Only the garments' thermal levels move; the visible appearance is the same person.
  assert.deepEqual(
    coupled.map((p) => p.appearance.upper),
    independent.map((p) => p.appearance.upper),
  );
  assert.throws(() => ids(1.5), /thermalCoupling must be in \[0, 1\], got 1.5/);
});

Deno.test("IR cues (lib/papers/cmgan/README.md): absent changes nothing; present spreads garment levels, sets the pattern contrast and per-person accessories, keeps the visible person", () => {
  const cues = { garment: [0.2, 0.9], pattern: 0.25, accessories: [0.15, 0.6] } as IrCues;
  const ids = (irCues: IrCues | undefined) =>
    Array.from(
      { length: 200 },
      (_, i) =>
        sampleIdentity(new Rng(9).fork(`p${i}`), `p${i}`, DEFAULT_PRIORS, {
          ...DEFAULT_APPEARANCE,
          ...(irCues === undefined ? {} : { irCues }),
        }),
    );
  const plain = ids(undefined);
  assert.ok(plain.every((p) => p.appearance.thermal.shoe === undefined));
  const cued = ids(cues);
  const { upper, lower, shoe, hat, pattern } = cued[0].appearance.thermal;
  assert.equal(pattern, 0.25);
  for (const v of [shoe!, hat!]) assert.ok(v >= 0.15 && v <= 0.6);
  const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  assert.ok(range(cued.map((p) => p.appearance.thermal.upper)) > 0.6, `${upper} ${lower}`);
  assert.ok(range(plain.map((p) => p.appearance.thermal.upper)) <= 0.4);
  // The visible appearance and every other thermal level are the same persons'.
  assert.deepEqual(
    cued.map((p) => [p.appearance.upper, p.appearance.heightScale, p.appearance.thermal.body]),
    plain.map((p) => [p.appearance.upper, p.appearance.heightScale, p.appearance.thermal.body]),
  );
  assert.throws(() => ids({ ...cues, garment: [0.5, 1.2] }), /irCues: ranges must lie in \[0, 1\]/);
});
