/**
 * Losses of the five papers: identity cross-entropy (label smoothing), attribute
 * BCE (DeepMAR weighting, smoothing), batch-hard / cross-modal / hetero-centre
 * triplets, centre loss, MMD and CORAL, adversarial losses, reconstruction.
 * Every loss returns a scalar tensor and keeps no intermediate tensor alive.
 *
 * @module
 */
export * from "./classification.ts";
export * from "./attribute.ts";
export * from "./distance.ts";
export * from "./triplet.ts";
export * from "./center.ts";
export * from "./mmd.ts";
export * from "./adversarial.ts";
export * from "./reconstruction.ts";
