/**
 * Training: per-player optimizers, LR schedules, explicit BN modes, loss history,
 * checkpoints and progress output.
 *
 * @module
 */
export * from "./players.ts";
export * from "./schedule.ts";
export * from "./modes.ts";
export * from "./history.ts";
export * from "./checkpoint.ts";
export * from "./progress.ts";
