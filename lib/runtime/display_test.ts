import assert from "node:assert/strict";
import {
  display,
  displayable,
  DisplayHandle,
  displayMessage,
  isNotebook,
  JUPYTER_DISPLAY,
  pngBundle,
  toBase64,
} from "./display.ts";

Deno.test("isNotebook is false under deno test, and display is a no-op", async () => {
  assert.equal(isNotebook(), false);
  const logged: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    await display({ "text/plain": "quiet" });
    assert.deepEqual(logged, []);
    await display({ "text/plain": "loud" }, { printOutside: true });
    assert.deepEqual(logged, ["loud"]);
    const handle = new DisplayHandle("h1");
    await handle.show({ "text/plain": "a" });
    await handle.show({ "text/plain": "b" });
    assert.equal(handle.shown, true);
    assert.deepEqual(logged, ["loud"]);
  } finally {
    console.log = original;
  }
});

Deno.test("displayMessage builds display_data and update_display_data with a display id", () => {
  const first = displayMessage({ "text/plain": "x" }, { displayId: "p" });
  assert.equal(first.msgType, "display_data");
  assert.deepEqual(first.content, {
    data: { "text/plain": "x" },
    metadata: {},
    transient: { display_id: "p" },
  });
  const next = displayMessage({ "text/plain": "y" }, { displayId: "p", update: true });
  assert.equal(next.msgType, "update_display_data");
  assert.deepEqual(next.content.transient, { display_id: "p" });
  assert.throws(() => displayMessage({}, { update: true }), /displayId/);
});

Deno.test("displayable and pngBundle", () => {
  const obj = displayable({ a: 1 }, () => ({ "text/plain": "one" }));
  assert.deepEqual(obj[JUPYTER_DISPLAY](), { "text/plain": "one" });
  assert.deepEqual(Object.keys(obj), ["a"]);
  assert.equal(toBase64(new Uint8Array([104, 105])), "aGk=");
  const bundle = pngBundle(new Uint8Array([1, 2, 3]), "img");
  assert.equal(bundle["image/png"], "AQID");
  assert.equal(bundle["text/plain"], "img");
});
