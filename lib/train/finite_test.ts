import assert from "node:assert/strict";
import { FiniteGuard, NonFiniteLossError } from "./finite.ts";

Deno.test("FiniteGuard: NaN and Infinity stop training, naming loss, step and last finite values", () => {
  const guard = new FiniteGuard();
  guard.check(0, { l_id: 3.4, l_tri: 0.5 });
  guard.check(1, { l_id: 3.1, l_tri: undefined });
  assert.deepEqual(guard.lastFinite, { step: 1, losses: { l_id: 3.1 } });
  assert.throws(() => guard.check(2, { l_id: 2.9, l_tri: NaN }), (e: unknown) => {
    assert.ok(e instanceof NonFiniteLossError);
    assert.equal(e.loss, "l_tri");
    assert.equal(e.step, 2);
    assert.equal(e.kind, "non-finite");
    assert.deepEqual(e.lastFinite, { step: 1, losses: { l_id: 3.1 } });
    assert.match(
      e.message,
      /loss "l_tri" is NaN at step 2; last finite values at step 1: l_id=3\.100/,
    );
    return true;
  });
  assert.throws(
    () => new FiniteGuard().check(0, { loss: -Infinity }),
    /loss "loss" is -Infinity at step 0; no step had finite losses before/,
  );
});

Deno.test("FiniteGuard: a loss beyond 1e6 × its first value is an explosion; ordinary growth is not", () => {
  const guard = new FiniteGuard();
  guard.check(0, { loss: 2 });
  guard.check(1, { loss: 1e5 }); // large, but within the factor
  assert.throws(() => guard.check(2, { loss: 3e6 }), (e: unknown) => {
    assert.ok(e instanceof NonFiniteLossError);
    assert.equal(e.kind, "exploded");
    assert.match(e.message, /is 3000000 at step 2 \(more than 1e\+6 × its first value 2\.000\)/);
    return true;
  });
  // A loss that starts at 0 is scaled from minScale (1), not from 0.
  const zero = new FiniteGuard({ explosionFactor: 10 });
  zero.check(0, { d: 0 });
  zero.check(1, { d: 9 });
  assert.throws(() => zero.check(2, { d: 11 }), /exploded|more than/);
  assert.throws(() => new FiniteGuard({ explosionFactor: 1 }), /must exceed 1/);
});
