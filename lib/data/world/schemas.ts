/**
 * Attribute schemas: the label list of each dataset release (and of the
 * papers' synthetic plans), computed from a person's {@link WorldAttributes}.
 *
 * Binary values follow each release's own 1/2 coding minus one, which is what
 * the field's loaders produce (e.g. Market `up`: 1 long sleeve, 2 short → 0/1,
 * so 1 means *short* sleeve). Colour groups are one-hot; a colour outside a
 * schema's group is an error, never a silent all-zero group.
 *
 * @module
 */
import { type ColorName, luma, PALETTE } from "./colors.ts";
import type { WorldAttributes } from "./attributes.ts";

/** A dataset's attribute list and how to compute it. */
export interface AttributeSchema {
  name: string;
  names: string[];
  /** One-hot groups by name → indices into {@link names}. */
  groups: Record<string, number[]>;
  /** Labels of a person, aligned with {@link names}. */
  encode(a: WorldAttributes): Int8Array;
}

type Entry = [name: string, value: (a: WorldAttributes) => boolean];

function colorGroup(
  group: string,
  field: "upperColor" | "lowerColor" | "hairColor" | "shoeColor",
  colors: readonly ColorName[],
  label: (c: ColorName) => string,
): { group: string; field: typeof field; colors: readonly ColorName[]; entries: Entry[] } {
  return { group, field, colors, entries: colors.map((c) => [label(c), (a) => a[field] === c]) };
}

function makeSchema(
  name: string,
  parts: (Entry | ReturnType<typeof colorGroup>)[],
  extraGroups: Record<string, string[]> = {},
): AttributeSchema {
  const entries: Entry[] = [];
  const groups: Record<string, number[]> = {};
  const checks: ReturnType<typeof colorGroup>[] = [];
  for (const p of parts) {
    if (Array.isArray(p)) {
      entries.push(p);
    } else {
      groups[p.group] = p.entries.map((_, i) => entries.length + i);
      entries.push(...p.entries);
      checks.push(p);
    }
  }
  const names = entries.map((e) => e[0]);
  for (const [g, members] of Object.entries(extraGroups)) {
    groups[g] = members.map((m) => names.indexOf(m));
  }
  return {
    name,
    names,
    groups,
    encode(a) {
      for (const c of checks) {
        if (!c.colors.includes(a[c.field])) {
          throw new Error(
            `schema ${name}: ${c.field} "${a[c.field]}" is not in its ${c.group} group (${
              c.colors.join(", ")
            })`,
          );
        }
      }
      return Int8Array.from(entries, ([, v]) => (v(a) ? 1 : 0));
    },
  };
}

const age = (k: number) => (a: WorldAttributes) => a.age === k;

/** Market-1501 upper and lower colour sets (Lin et al.). */
export const MARKET_UPPER: readonly ColorName[] = [
  "black",
  "white",
  "red",
  "purple",
  "yellow",
  "gray",
  "blue",
  "green",
];
/** Market-1501 lower colours. */
export const MARKET_LOWER: readonly ColorName[] = [
  "black",
  "white",
  "pink",
  "purple",
  "yellow",
  "gray",
  "blue",
  "green",
  "brown",
];
/** DukeMTMC-reID upper colours. */
export const DUKE_UPPER: readonly ColorName[] = [
  "black",
  "white",
  "red",
  "purple",
  "gray",
  "blue",
  "green",
  "brown",
];
/** DukeMTMC-reID lower colours. */
export const DUKE_LOWER: readonly ColorName[] = [
  "black",
  "white",
  "red",
  "gray",
  "blue",
  "green",
  "brown",
];
/** PETA's 11 colours, in the order of its column names. */
export const PETA_COLORS: readonly ColorName[] = [
  "black",
  "blue",
  "brown",
  "green",
  "gray",
  "orange",
  "pink",
  "purple",
  "red",
  "white",
  "yellow",
];
const petaColor = (c: ColorName) => c === "gray" ? "Grey" : c[0].toUpperCase() + c.slice(1);

/**
 * Market-1501 attributes as the 30 binary dims of SAL's loader (age expanded
 * to one-hot young/teenager/adult/old, then the test-set order).
 */
export const MARKET1501_SCHEMA: AttributeSchema = makeSchema("market1501", [
  ["young", age(0)],
  ["teenager", age(1)],
  ["adult", age(2)],
  ["old", age(3)],
  ["backpack", (a) => a.backpack],
  ["bag", (a) => a.shoulderBag],
  ["handbag", (a) => a.handbag],
  ["clothes", (a) => !a.skirt], // 1 dress, 2 pants
  ["down", (a) => !a.lowerLong], // 1 long, 2 short
  ["up", (a) => !a.longSleeves], // 1 long, 2 short
  ["hair", (a) => a.hairLong], // 1 short, 2 long
  ["hat", (a) => a.hat],
  ["gender", (a) => a.female], // 1 male, 2 female
  colorGroup("upper_color", "upperColor", MARKET_UPPER, (c) => `up${c}`),
  colorGroup("lower_color", "lowerColor", MARKET_LOWER, (c) => `down${c}`),
], { age: ["young", "teenager", "adult", "old"] });

/** Shoes count as "light" (Duke `shoes` = 2) when their reference colour is bright. */
export const isLightShoe = (c: ColorName) => luma(PALETTE[c]) > 0.4;

/** DukeMTMC-reID's 23 attributes (Lin et al.), in the order of `duke_attribute.mat`'s fields. */
export const DUKEMTMC_SCHEMA: AttributeSchema = makeSchema("dukemtmc_reid", [
  ["backpack", (a) => a.backpack],
  ["bag", (a) => a.shoulderBag],
  ["handbag", (a) => a.handbag],
  ["boots", (a) => a.boots],
  ["gender", (a) => a.female], // 1 male, 2 female
  ["hat", (a) => a.hat],
  ["shoes", (a) => isLightShoe(a.shoeColor)], // 1 dark, 2 light
  ["top", (a) => a.longSleeves], // 1 short, 2 long upper-body clothing
  colorGroup("lower_color", "lowerColor", DUKE_LOWER, (c) => `down${c}`),
  colorGroup("upper_color", "upperColor", DUKE_UPPER, (c) => `up${c}`),
]);

const formal = (a: WorldAttributes) =>
  a.longSleeves && a.lowerLong && !a.skirt && ["black", "gray"].includes(a.lowerColor) &&
  ["black", "white", "gray"].includes(a.upperColor) && a.upperPattern === "plain";
const sneaker = (a: WorldAttributes) => !a.boots && ["white", "gray"].includes(a.shoeColor);
const leather = (a: WorldAttributes) =>
  !a.boots && formal(a) && ["black", "brown"].includes(a.shoeColor);
const no = () => false;

/**
 * PETA's 105 binary dims (61 binary + 4 × 11 colours) in the column order of
 * the PETA.mat SAL reads (lib/papers/sal/README.md, 'Data and splits'). Attributes the world never draws
 * (umbrellas, baby buggies, …) are always 0, as rare labels are in PETA.
 */
export const PETA_SCHEMA: AttributeSchema = makeSchema("peta", [
  ["personalLess30", (a) => a.age <= 1],
  ["personalLess45", (a) => a.age === 2],
  ["personalLess60", no],
  ["personalLarger60", (a) => a.age === 3],
  ["carryingBackpack", (a) => a.backpack],
  ["carryingOther", (a) => a.handbag],
  ["lowerBodyCasual", (a) => !formal(a)],
  ["upperBodyCasual", (a) => !formal(a)],
  ["lowerBodyFormal", formal],
  ["upperBodyFormal", formal],
  ["accessoryHat", (a) => a.hat],
  ["upperBodyJacket", (a) => a.longSleeves && !formal(a) && a.upperPattern === "plain"],
  ["lowerBodyJeans", (a) => !a.skirt && a.lowerLong && a.lowerColor === "blue"],
  ["footwearLeatherShoes", leather],
  ["upperBodyLogo", (a) => a.upperPattern === "logo"],
  ["hairLong", (a) => a.hairLong],
  ["personalMale", (a) => !a.female],
  ["carryingMessengerBag", (a) => a.shoulderBag],
  ["accessoryMuffler", no],
  ["accessoryNothing", (a) => !a.hat && !a.glasses],
  ["carryingNothing", (a) => !a.backpack && !a.handbag && !a.shoulderBag],
  ["upperBodyPlaid", (a) => a.upperPattern === "check"],
  ["carryingPlasticBags", no],
  ["footwearSandals", no],
  ["footwearShoes", (a) => !a.boots && !sneaker(a) && !leather(a)],
  ["lowerBodyShorts", (a) => !a.skirt && !a.lowerLong],
  ["upperBodyShortSleeve", (a) => !a.longSleeves],
  ["lowerBodyShortSkirt", (a) => a.skirt && !a.lowerLong],
  ["footwearSneaker", sneaker],
  ["upperBodyThinStripes", (a) => a.upperPattern === "hstripes" || a.upperPattern === "vstripes"],
  ["accessorySunglasses", (a) => a.glasses],
  ["lowerBodyTrousers", (a) => !a.skirt && a.lowerLong],
  ["upperBodyTshirt", (a) => !a.longSleeves && a.upperPattern !== "check"],
  ["upperBodyOther", (a) => !a.longSleeves && a.upperPattern === "check"],
  ["upperBodyVNeck", no],
  colorGroup("upper_color", "upperColor", PETA_COLORS, (c) => `upperBody${petaColor(c)}`),
  colorGroup("lower_color", "lowerColor", PETA_COLORS, (c) => `lowerBody${petaColor(c)}`),
  colorGroup("hair_color", "hairColor", PETA_COLORS, (c) => `hair${petaColor(c)}`),
  colorGroup("footwear_color", "shoeColor", PETA_COLORS, (c) => `footwear${petaColor(c)}`),
  ["accessoryHeadphone", no],
  ["personalLess15", (a) => a.age === 0],
  ["carryingBabyBuggy", no],
  ["hairBald", no],
  ["footwearBoots", (a) => a.boots],
  ["lowerBodyCapri", no],
  ["carryingShoppingTro", no],
  ["carryingUmbrella", no],
  ["personalFemale", (a) => a.female],
  ["carryingFolder", no],
  ["accessoryHairBand", no],
  ["lowerBodyHotPants", no],
  ["accessoryKerchief", no],
  ["lowerBodyLongSkirt", (a) => a.skirt && a.lowerLong],
  ["upperBodyLongSleeve", (a) => a.longSleeves],
  ["lowerBodyPlaid", no],
  ["lowerBodyThinStripes", no],
  ["carryingLuggageCase", no],
  ["upperBodyNoSleeve", no],
  ["hairShort", (a) => !a.hairLong],
  ["footwearStocking", no],
  ["upperBodySuit", formal],
  ["carryingSuitcase", no],
  ["lowerBodySuits", formal],
  ["upperBodySweater", no],
  ["upperBodyThickStripes", no],
], { age: ["personalLess30", "personalLess45", "personalLess60", "personalLarger60"] });

/** The 35 PETA attributes most papers evaluate (Deng et al.'s list, as in DeepMAR's loader). */
export const PETA_35: readonly string[] = [
  "accessoryHat",
  "accessoryMuffler",
  "accessoryNothing",
  "accessorySunglasses",
  "hairLong",
  "upperBodyCasual",
  "upperBodyFormal",
  "upperBodyJacket",
  "upperBodyLogo",
  "upperBodyPlaid",
  "upperBodyShortSleeve",
  "upperBodyThinStripes",
  "upperBodyTshirt",
  "upperBodyOther",
  "upperBodyVNeck",
  "lowerBodyCasual",
  "lowerBodyFormal",
  "lowerBodyJeans",
  "lowerBodyShorts",
  "lowerBodyShortSkirt",
  "lowerBodyTrousers",
  "footwearLeatherShoes",
  "footwearSandals",
  "footwearShoes",
  "footwearSneaker",
  "carryingBackpack",
  "carryingOther",
  "carryingMessengerBag",
  "carryingNothing",
  "carryingPlasticBags",
  "personalLess30",
  "personalLess45",
  "personalLess60",
  "personalLarger60",
  "personalMale",
];

/** The 8 SYSU-MM01 attributes of Zhang et al. used by PAENet (1 = female, long hair, glasses, long sleeves, dress, long lower, backpack, satchel). */
export const PAENET_SCHEMA: AttributeSchema = makeSchema("paenet8", [
  ["gender", (a) => a.female],
  ["hair", (a) => a.hairLong],
  ["glasses", (a) => a.glasses],
  ["sleeve", (a) => a.longSleeves],
  ["dress", (a) => a.skirt],
  ["lower_length", (a) => a.lowerLong],
  ["backpack", (a) => a.backpack],
  ["satchel", (a) => a.shoulderBag],
]);

/** SAL's 18 synthetic dims (lib/papers/sal/README.md, 'Synthetic worlds') (for direct use with the world, not a release format). */
export const SAL18_SCHEMA: AttributeSchema = makeSchema("sal18", [
  ["female", (a) => a.female],
  ["hairLong", (a) => a.hairLong],
  ["hat", (a) => a.hat],
  ["shortSleeve", (a) => !a.longSleeves],
  ["shortLower", (a) => !a.lowerLong],
  ["backpack", (a) => a.backpack],
  ["handbag", (a) => a.handbag],
  colorGroup(
    "upper_color",
    "upperColor",
    ["black", "white", "gray", "red", "blue", "yellow"],
    (c) => `upper_${c}`,
  ),
  colorGroup(
    "lower_color",
    "lowerColor",
    ["black", "blue", "gray", "white", "brown"],
    (c) => `lower_${c}`,
  ),
]);

/** AAIPR's base schema, 10 attributes → 19 dims (lib/papers/aaipr/README.md, 'Data'). */
export const AAIPR19_SCHEMA: AttributeSchema = makeSchema("aaipr19", [
  ["gender", (a) => a.female],
  ["hair", (a) => a.hairLong],
  ["hat", (a) => a.hat],
  ["sleeve", (a) => a.longSleeves],
  ["lower_length", (a) => a.lowerLong],
  ["backpack", (a) => a.backpack],
  ["handbag", (a) => a.handbag],
  ["shoes", (a) => isLightShoe(a.shoeColor)],
  colorGroup(
    "upper_color",
    "upperColor",
    ["black", "white", "red", "blue", "green", "gray"],
    (c) => `upper_${c}`,
  ),
  colorGroup(
    "lower_color",
    "lowerColor",
    ["black", "white", "blue", "gray", "brown"],
    (c) => `lower_${c}`,
  ),
]);

/** TJ-AIDL's 18 identity-level dims (lib/papers/tjaidl/README.md, 'Synthetic world'). */
export const TJAIDL18_SCHEMA: AttributeSchema = makeSchema("tjaidl18", [
  ["female", (a) => a.female],
  ["long_hair", (a) => a.hairLong],
  ["long_sleeves", (a) => a.longSleeves],
  ["long_lower", (a) => a.lowerLong],
  ["skirt", (a) => a.skirt],
  ["hat", (a) => a.hat],
  ["backpack", (a) => a.backpack],
  ["handbag", (a) => a.handbag],
  colorGroup(
    "upper_color",
    "upperColor",
    ["black", "white", "red", "blue", "green", "yellow"],
    (c) => `upper_${c}`,
  ),
  colorGroup("lower_color", "lowerColor", ["black", "blue", "gray", "brown"], (c) => `lower_${c}`),
]);

/** Every schema by name. */
export const SCHEMAS: Readonly<Record<string, AttributeSchema>> = Object.fromEntries(
  [
    MARKET1501_SCHEMA,
    DUKEMTMC_SCHEMA,
    PETA_SCHEMA,
    PAENET_SCHEMA,
    SAL18_SCHEMA,
    AAIPR19_SCHEMA,
    TJAIDL18_SCHEMA,
  ].map((
    s,
  ) => [s.name, s]),
);
