/**
 * Training steps with one optimizer per player.
 *
 * Adversarial and multi-branch methods (SAL, AAIPR, cmGAN, TJ-AIDL, PAENet) update
 * several parameter groups — encoder, generator, discriminator, classifier — each with
 * its own optimizer and learning rate. tfjs optimizers keep their state (Adam's moments,
 * momentum accumulators) in arrays indexed by the *position* of a variable in the list
 * passed to `applyGradients`, not by the variable. Editing a shared variable list to
 * "freeze" a module therefore hands one variable's moments to another. Here each
 * {@link Player} owns a frozen variable list fixed at construction and its own optimizer,
 * and always applies gradients in that list's order; freezing means not stepping the
 * player (or setting {@link Player.trainable} to false), never editing a list.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Anything whose trainable weights a player can take: a LayersModel or a single layer. */
export interface HasTrainableWeights {
  readonly trainableWeights: ReadonlyArray<{ read(): tf.Tensor; readonly name: string }>;
}

/**
 * The `tf.Variable`s behind the trainable weights of tfjs-layers models or layers, in
 * their weight order, without duplicates (a layer shared by two models counts once).
 *
 * tfjs-layers wraps each weight in a `LayersVariable`, whose `read()` returns the
 * underlying `tf.Variable` itself (not a copy), so this list is what `tf.variableGrads`
 * and the optimizers need; a test checks the identity.
 */
export function trainableVariables(...modules: HasTrainableWeights[]): tf.Variable[] {
  const out: tf.Variable[] = [];
  const seen = new Set<tf.Variable>();
  for (const module of modules) {
    for (const weight of module.trainableWeights) {
      const value = weight.read();
      if (!(value instanceof tf.Variable)) {
        throw new Error(
          `trainableVariables: weight "${weight.name}" did not read as a tf.Variable ` +
            `(got ${value?.constructor?.name}); expected a tfjs-layers LayersVariable`,
        );
      }
      if (!seen.has(value)) {
        seen.add(value);
        out.push(value);
      }
    }
  }
  return out;
}

/** Options of a {@link Player}. */
export interface PlayerOptions {
  /** A name for messages, checkpoints and histories, e.g. "generator". */
  name: string;
  /** The variables this player updates, in a fixed order (copied and frozen). */
  variables: readonly tf.Variable[];
  /** The player's own optimizer; it must not be shared with another player. */
  optimizer: tf.Optimizer;
  /**
   * Coupled L2 weight decay as in PyTorch's Adam/SGD: `grad += weightDecay · θ` before
   * the optimizer sees the gradient. Default 0.
   */
  weightDecay?: number;
}

const optimizerOwners = new WeakMap<tf.Optimizer, string>();

/**
 * One parameter group with its own optimizer. The variable list is fixed at
 * construction; {@link Player.step} differentiates the loss with respect to exactly these
 * variables and updates only them, even when the loss depends on other players' variables.
 */
export class Player {
  /** The player's name. */
  readonly name: string;
  /** The player's variables, frozen: their order is the optimizer's slot order. */
  readonly variables: readonly tf.Variable[];
  /** The player's optimizer (owned: disposed by {@link Player.dispose}). */
  readonly optimizer: tf.Optimizer;
  /** Coupled L2 weight decay added to each gradient. */
  readonly weightDecay: number;
  /** When false, {@link Player.step} does nothing and returns null (a frozen module). */
  trainable = true;
  #steps = 0;

  constructor(options: PlayerOptions) {
    const { name, variables, optimizer } = options;
    if (variables.length === 0) throw new Error(`player "${name}": empty variable list`);
    const seen = new Set<tf.Variable>();
    for (const v of variables) {
      if (!(v instanceof tf.Variable)) {
        throw new Error(
          `player "${name}": variable list holds a ${
            (v as object)?.constructor?.name
          }, expected tf.Variable (use trainableVariables(model) for tfjs-layers models)`,
        );
      }
      if (seen.has(v)) throw new Error(`player "${name}": variable "${v.name}" listed twice`);
      seen.add(v);
    }
    const owner = optimizerOwners.get(optimizer);
    if (owner !== undefined) {
      throw new Error(
        `player "${name}": its optimizer already belongs to player "${owner}"; ` +
          "each player needs its own optimizer (their state is matched to variables by position)",
      );
    }
    optimizerOwners.set(optimizer, name);
    this.name = name;
    this.variables = Object.freeze([...variables]);
    this.optimizer = optimizer;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /** Number of updates this player has applied. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Computes `loss()` and its gradients with respect to this player's variables only,
   * applies them with this player's optimizer, disposes every intermediate tensor and
   * resolves to the loss value. Resolves to null without evaluating `loss` when the player
   * is frozen ({@link Player.trainable} false).
   *
   * Asynchronous because the loss is read back with `data()`: a synchronous readback
   * throws under Deno's WebGPU. The update is already queued when this returns its promise,
   * so a caller that does not await still sees the variables move in order.
   */
  async step(loss: () => tf.Scalar): Promise<number | null> {
    if (!this.trainable) return null;
    const { value, grads } = this.#gradients(loss);
    try {
      this.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
    try {
      return (await value.data())[0];
    } finally {
      value.dispose();
    }
  }

  /**
   * Applies gradients keyed by variable name (as `tf.variableGrads` returns them) in this
   * player's variable order; variables without a gradient keep their slot and are left
   * unchanged. Does not dispose `grads`. Used by {@link stepTogether}.
   */
  applyGradients(grads: tf.NamedTensorMap): void {
    if (!this.trainable) return;
    tf.tidy(() => {
      const list: { name: string; tensor: tf.Tensor }[] = this.variables.map((v) => {
        let g: tf.Tensor | undefined = grads[v.name] ?? undefined;
        if (g && this.weightDecay !== 0) g = tf.add(g, tf.mul(v, this.weightDecay));
        // A null tensor keeps the variable's slot while skipping its update.
        return { name: v.name, tensor: g as tf.Tensor };
      });
      this.optimizer.applyGradients(list);
    });
    this.#steps++;
  }

  #gradients(loss: () => tf.Scalar): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    try {
      return tf.variableGrads(loss, [...this.variables]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`player "${this.name}": ${message}`);
    }
  }

  /** Disposes the optimizer's state (not the variables, which belong to the models). */
  dispose(): void {
    optimizerOwners.delete(this.optimizer);
    this.optimizer.dispose();
  }
}

/**
 * One backward pass of a shared loss, each trainable player applying its own share with
 * its own optimizer (e.g. AAIPR's image and attribute branches at different learning
 * rates). Frozen players are neither differentiated nor updated. Resolves to the loss
 * value (read back asynchronously, as in {@link Player.step}), or null when no player is
 * trainable.
 */
export async function stepTogether(
  players: readonly Player[],
  loss: () => tf.Scalar,
): Promise<number | null> {
  const active = players.filter((p) => p.trainable);
  if (active.length === 0) return null;
  const all = new Set<tf.Variable>();
  for (const p of active) for (const v of p.variables) all.add(v);
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(loss, [...all]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`players ${active.map((p) => `"${p.name}"`).join(", ")}: ${message}`);
  }
  try {
    for (const p of active) p.applyGradients(result.grads);
  } finally {
    tf.dispose(result.grads);
  }
  try {
    return (await result.value.data())[0];
  } finally {
    result.value.dispose();
  }
}

/** The learning rate an optimizer will use at its next update. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== "number") {
    throw new Error(`${optimizer.getClassName()} has no numeric learningRate field`);
  }
  return lr;
}

/**
 * Sets an optimizer's learning rate for its next updates. SGD and Momentum cache the rate
 * in a tensor and must go through their `setLearningRate`; Adam, Adamax, RMSProp, Adagrad
 * and Adadelta read their (TypeScript-protected) `learningRate` field at every update.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) {
    throw new Error(`learning rate must be a finite number ≥ 0, got ${lr}`);
  }
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void };
  if (typeof withSetter.setLearningRate === "function") {
    withSetter.setLearningRate(lr);
    return;
  }
  getLearningRate(optimizer); // throws for optimizers without the field
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
