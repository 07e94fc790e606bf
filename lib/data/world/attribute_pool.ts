/**
 * Attribute pools: control how many persons share one attribute vector
 * ("semantic ID" / attribute category), as AAIPR's SID-pool procedure does
 * (lib/papers/aaipr/README.md, 'Semantic IDs'). Independent draws from the prior make almost every person's
 * vector unique (e.g. 231 distinct Market vectors for 240 persons), while the
 * real releases share them (Market ≈ 1.5, Duke ≈ 2.3 persons per vector).
 *
 * @module
 */
import type { Rng } from "../../runtime/random.ts";
import { type AttributePriors, sampleAttributes, type WorldAttributes } from "./attributes.ts";
import type { AttributeSchema } from "./schemas.ts";

/** How a preset's persons get their attributes when they are pooled. */
export interface AttributePoolConfig {
  /** Distinct attribute vectors (under the dataset's schema) of the training persons. */
  trainVectors: number;
  /** Distinct vectors of the test persons (query/gallery ids). */
  testVectors: number;
  /** Fraction of the test vectors also used in training. */
  testOverlap: number;
  /** Zipf exponent of vector popularity once every vector has one person. */
  zipf: number;
}

/** Draws `n` vectors distinct under `schema` (and not in `exclude`) by rejection. */
export function distinctVectors(
  rng: Rng,
  n: number,
  priors: AttributePriors,
  schema: AttributeSchema,
  exclude: Set<string> = new Set(),
): WorldAttributes[] {
  const out: WorldAttributes[] = [];
  const seen = new Set(exclude);
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 200 * n + 1000) {
      throw new Error(
        `attribute pool: cannot draw ${n} distinct ${schema.name} vectors from the prior`,
      );
    }
    const a = sampleAttributes(rng, priors);
    const key = schema.encode(a).join("");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

/**
 * Assigns `persons` people to `pool` vectors: each vector gets one person
 * while there are enough people, the rest follow Zipf popularity. Returns the
 * pool index of each person.
 */
export function assignToPool(rng: Rng, persons: number, pool: number, zipf: number): number[] {
  const weights = Array.from({ length: pool }, (_, i) => 1 / Math.pow(i + 1, zipf));
  const first = rng.shuffle(Array.from({ length: pool }, (_, i) => i)).slice(
    0,
    Math.min(pool, persons),
  );
  const rest = Array.from({ length: Math.max(0, persons - pool) }, () => rng.weighted(weights));
  return rng.shuffle([...first, ...rest]);
}

/**
 * A person wearing a pooled vector: the pooled fields the schema sees, and a
 * fresh draw of every field the schema does not see (so two persons of one
 * vector still differ in, say, hair colour when the schema has no hair colour).
 */
export function personFromVector(
  rng: Rng,
  vector: WorldAttributes,
  priors: AttributePriors,
  schema: AttributeSchema,
): WorldAttributes {
  const fresh = sampleAttributes(rng, priors);
  const key = schema.encode(vector).join("");
  const out: WorldAttributes = { ...vector };
  for (const field of Object.keys(fresh) as (keyof WorldAttributes)[]) {
    const candidate = { ...out, [field]: fresh[field] } as WorldAttributes;
    if (schema.encode(candidate).join("") === key) Object.assign(out, { [field]: fresh[field] });
  }
  return out;
}

/**
 * Attributes for train and test persons under a pool config: returns one
 * attribute set per person, in the order given.
 */
export function pooledAttributes(
  rng: Rng,
  cfg: AttributePoolConfig,
  priors: AttributePriors,
  schema: AttributeSchema,
  trainPersons: number,
  testPersons: number,
): { train: WorldAttributes[]; test: WorldAttributes[] } {
  const trainPool = distinctVectors(rng.fork("train-pool"), cfg.trainVectors, priors, schema);
  const shared = Math.min(trainPool.length, Math.round(cfg.testVectors * cfg.testOverlap));
  const reused = rng.fork("overlap").sample(trainPool, shared);
  const keys = new Set(trainPool.map((a) => schema.encode(a).join("")));
  const fresh = distinctVectors(
    rng.fork("test-pool"),
    cfg.testVectors - shared,
    priors,
    schema,
    keys,
  );
  const testPool = [...reused, ...fresh];
  const dress = (pool: WorldAttributes[], n: number, label: string) => {
    const r = rng.fork(label);
    return assignToPool(r, n, pool.length, cfg.zipf).map((i, k) =>
      personFromVector(r.fork(`person:${k}`), pool[i], priors, schema)
    );
  };
  return {
    train: dress(trainPool, trainPersons, "train-persons"),
    test: dress(testPool, testPersons, "test-persons"),
  };
}
