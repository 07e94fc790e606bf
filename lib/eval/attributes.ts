/**
 * Pedestrian attribute recognition metrics, as the PETA / RAP papers define
 * them (Deng et al. 2014; Li et al., "A Richly Annotated Dataset for
 * Pedestrian Attribute Recognition", 2016):
 *
 * - label-based: per attribute, TPR = TP / P and TNR = TN / N; the mean
 *   accuracy mA = mean over attributes of (TPR + TNR) / 2 (balanced);
 * - instance-based: per sample, with Y the true positive attributes and F the
 *   predicted ones, accuracy |Y∩F| / |Y∪F|, precision |Y∩F| / |F|, recall
 *   |Y∩F| / |Y|, each averaged over samples; F1 = 2·P·R / (P + R) of the
 *   averaged precision P and recall R.
 *
 * Empty denominators count as 0 (e.g. a sample with no predicted positive has
 * precision 0, an attribute with no positive sample has TPR 0), as the widely
 * used PAR evaluation code does with its ε in every denominator. Labels of -1
 * (unlabelled) are left out of every count.
 *
 * @module
 */

/** Metrics of one attribute. */
export interface AttributeScore {
  name: string;
  /** (TP + TN) / labelled samples. */
  accuracy: number;
  /** True-positive rate TP / P (0 when P = 0). */
  tpr: number;
  /** True-negative rate TN / N (0 when N = 0). */
  tnr: number;
  /** (TPR + TNR) / 2: this attribute's term of mA. */
  balancedAccuracy: number;
  positives: number;
  negatives: number;
}

/** What {@link attributeMetrics} returns; all values are fractions in [0, 1]. */
export interface AttributeMetrics {
  perAttribute: AttributeScore[];
  /** Label-based mean accuracy: mean of the attributes' balanced accuracies. */
  mA: number;
  /** Instance-based accuracy, precision, recall and F1. */
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  numSamples: number;
}

/** Options of {@link attributeMetrics}. */
export interface AttributeMetricOptions {
  /** A prediction is positive when its score is ≥ threshold (default 0.5, for probabilities). */
  threshold?: number;
  /** Attribute names in column order (default "attr0", "attr1", …). */
  names?: readonly string[];
}

/**
 * Scores predictions against labels, both row-major `numSamples × numAttributes`.
 * `scores` are probabilities (or any scores with a matching `threshold`);
 * `labels` are 1 / 0, or -1 where unlabelled.
 */
export function attributeMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  numAttributes: number,
  options: AttributeMetricOptions = {},
): AttributeMetrics {
  const A = numAttributes;
  if (!Number.isInteger(A) || A < 1) {
    throw new Error(`attributeMetrics: numAttributes must be a positive integer, got ${A}`);
  }
  if (scores.length !== labels.length || labels.length % A !== 0) {
    throw new Error(
      `attributeMetrics: ${scores.length} scores and ${labels.length} labels do not form ` +
        `matching rows of ${A} attributes`,
    );
  }
  if (options.names && options.names.length !== A) {
    throw new Error(`attributeMetrics: ${options.names.length} names for ${A} attributes`);
  }
  const threshold = options.threshold ?? 0.5;
  const n = labels.length / A;
  const tp = new Float64Array(A), tn = new Float64Array(A);
  const pos = new Float64Array(A), neg = new Float64Array(A);
  let sumAcc = 0, sumPrec = 0, sumRec = 0;
  for (let i = 0; i < n; i++) {
    let inter = 0, union = 0, predicted = 0, actual = 0;
    for (let a = 0; a < A; a++) {
      const y = labels[i * A + a];
      if (y !== 0 && y !== 1) {
        if (y === -1) continue;
        throw new Error(`attributeMetrics: label [${i}][${a}] is ${y}; expected 1, 0 or -1`);
      }
      const s = scores[i * A + a];
      if (s !== s) throw new Error(`attributeMetrics: score [${i}][${a}] is NaN`);
      const f = s >= threshold ? 1 : 0;
      if (y === 1) {
        pos[a]++;
        if (f) tp[a]++;
      } else {
        neg[a]++;
        if (!f) tn[a]++;
      }
      if (y && f) inter++;
      if (y || f) union++;
      predicted += f;
      actual += y;
    }
    sumAcc += union > 0 ? inter / union : 0;
    sumPrec += predicted > 0 ? inter / predicted : 0;
    sumRec += actual > 0 ? inter / actual : 0;
  }
  const perAttribute: AttributeScore[] = [];
  let sumBalanced = 0;
  for (let a = 0; a < A; a++) {
    const tpr = pos[a] > 0 ? tp[a] / pos[a] : 0;
    const tnr = neg[a] > 0 ? tn[a] / neg[a] : 0;
    const labelled = pos[a] + neg[a];
    const balancedAccuracy = (tpr + tnr) / 2;
    sumBalanced += balancedAccuracy;
    perAttribute.push({
      name: options.names?.[a] ?? `attr${a}`,
      accuracy: labelled > 0 ? (tp[a] + tn[a]) / labelled : 0,
      tpr,
      tnr,
      balancedAccuracy,
      positives: pos[a],
      negatives: neg[a],
    });
  }
  const precision = n > 0 ? sumPrec / n : 0;
  const recall = n > 0 ? sumRec / n : 0;
  return {
    perAttribute,
    mA: sumBalanced / A,
    accuracy: n > 0 ? sumAcc / n : 0,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    numSamples: n,
  };
}
