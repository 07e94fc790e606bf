import assert from "node:assert/strict";
import { isQuick, QUICK_ENV, quickOr } from "./quick.ts";

Deno.test("isQuick follows REID_QUICK", () => {
  const before = Deno.env.get(QUICK_ENV);
  try {
    Deno.env.set(QUICK_ENV, "1");
    assert.equal(isQuick(), true);
    assert.equal(quickOr(2, 100), 2);
    Deno.env.set(QUICK_ENV, "0");
    assert.equal(isQuick(), false);
    Deno.env.delete(QUICK_ENV);
    assert.equal(isQuick(), false);
    assert.equal(quickOr(2, 100), 100);
  } finally {
    if (before === undefined) Deno.env.delete(QUICK_ENV);
    else Deno.env.set(QUICK_ENV, before);
  }
});
