import assert from "node:assert/strict";
import type { MimeBundle } from "../runtime/display.ts";
import { LossHistory } from "./history.ts";
import { formatDuration, Progress } from "./progress.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("terminal progress redraws in place, throttled, and ends the line", async () => {
  const c = clock();
  const out: string[] = [];
  const p = new Progress({
    total: 100,
    label: "toy",
    sink: "terminal",
    intervalMs: 200,
    now: c.now,
    write: (s) => out.push(s),
  });
  c.advance(1000);
  p.update(10, { loss: 0.51234 });
  c.advance(50);
  p.update(11, { loss: 0.5 }); // within 200 ms: no output
  assert.equal(out.length, 1);
  assert.ok(out[0].startsWith("\r\x1b[2Ktoy ["), out[0]);
  assert.match(out[0], /10\/100 10% · loss 0\.5123 · 10\.0 it\/s ETA 0:09/);
  c.advance(1000);
  await p.done({ loss: 0.1 });
  assert.equal(out.length, 2);
  assert.match(out[1], /11\/100 11% · loss 0\.1000 · 0:02 total\n$/);
});

Deno.test("line and notebook sinks; following a history", async () => {
  const c = clock();
  const lines: string[] = [];
  const p = new Progress({
    total: 4,
    sink: "lines",
    intervalMs: 0,
    now: c.now,
    write: (s) => lines.push(s),
  });
  const h = new LossHistory();
  const stop = p.follow(h);
  c.advance(4000);
  h.record(0, { g: 1 });
  h.record(1, { g: 2, d: 3e-5 });
  stop();
  h.record(2, { g: 9 });
  assert.equal(lines.length, 2);
  assert.match(
    lines[1],
    /\[#{12}-{12}\] 2\/4 50% · g 2\.000 · d 3\.00e-5 · 2\.00 s\/it ETA 0:04\n/,
  );

  const shown: MimeBundle[] = [];
  const n = new Progress({
    total: 10,
    sink: "notebook",
    intervalMs: 0,
    now: c.now,
    show: (b) => {
      shown.push(b);
      return Promise.resolve();
    },
  });
  n.update(5, { loss: 1 });
  await n.done();
  assert.equal(shown.length, 2);
  assert.match(String(shown[0]["text/html"]), /<progress value="50\.0" max="100"/);
  assert.match(String(shown[1]["text/plain"]), /5\/10 50%/);
});

Deno.test("durations", () => {
  assert.equal(formatDuration(65), "1:05");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "?");
});
