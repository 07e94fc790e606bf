/**
 * Runtime: backend choice, the seeded random source, the tensor-leak guard.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./random.ts";
export * from "./leak.ts";
