import assert from "node:assert/strict";
import { JUPYTER_DISPLAY } from "../runtime/display.ts";
import {
  claimsTable,
  comparisonTable,
  formatMeanStd,
  tableBundle,
  toCsv,
  toHtml,
  toMarkdown,
  toText,
} from "./tables.ts";

const rows = [
  { label: "full", paper: { R1: 41.2, mAP: 30 }, ours: { R1: [38, 40, 42], mAP: [20, 21, 22] } },
  {
    label: "w/o MMD | shared",
    paper: { R1: 35.0, mAP: null },
    ours: { R1: { mean: 33.25, std: 1.5, n: 3 }, mAP: null },
  },
];

Deno.test("comparisonTable: paper, ours as mean ± std, and the difference", () => {
  const table = comparisonTable(rows, { metrics: ["R1", "mAP"], title: "Table 3 <SAL>" });
  assert.deepEqual(table.headers, [
    "row",
    "R1 paper",
    "R1 ours",
    "R1 Δ",
    "mAP paper",
    "mAP ours",
    "mAP Δ",
  ]);
  assert.deepEqual(table.rows[0], [
    "full",
    "41.2",
    "40.0 ± 2.0",
    "-1.2",
    "30.0",
    "21.0 ± 1.0",
    "-9.0",
  ]);
  assert.deepEqual(table.rows[1], [
    "w/o MMD | shared",
    "35.0",
    "33.3 ± 1.5",
    "-1.8",
    "—",
    "—",
    "—",
  ]);

  const md = toMarkdown(table);
  const lines = md.trim().split("\n");
  assert.equal(lines[0], "**Table 3 <SAL>**");
  assert.equal(lines[2], "| row | R1 paper | R1 ours | R1 Δ | mAP paper | mAP ours | mAP Δ |");
  assert.equal(lines[3], "| :--- | ---: | ---: | ---: | ---: | ---: | ---: |");
  assert.match(md, /\| w\/o MMD \\\| shared \| 35\.0 \|/, "pipes inside cells are escaped");

  const html = toHtml(table);
  assert.match(html, /<caption style="font-weight:bold">Table 3 &lt;SAL&gt;<\/caption>/);
  assert.equal((html.match(/<tr>/g) ?? []).length, 3);
  assert.match(html, />40\.0 ± 2\.0<\/td>/);

  const text = toText(table);
  assert.match(text, /^Table 3 <SAL>\nrow {14}/);
});

Deno.test("claimsTable: ✓ / ✗ / ~ / — with evidence and a count of each verdict", () => {
  const table = claimsTable([
    { id: "C1", text: "full > w/o MMD (R1)", holds: true, evidence: "+6.7 ± 1.1 paired, 3 seeds" },
    { id: "C2", text: "full > baseline by ≥ 5", holds: false, evidence: "+2.0 ± 3.0" },
    { id: "C3", text: "row not run", holds: null },
    { id: "C4", text: "within the noise", holds: null, verdict: "~" },
  ]);
  assert.deepEqual(table.rows.map((r) => r[2]), ["✓", "✗", "—", "~"]);
  assert.equal(
    table.caption,
    "1 ✓ hold, 1 ✗ contradicted, 1 ~ inconclusive, 1 — no data (of 4). " +
      "✓ holds · ✗ contradicted beyond the noise · ~ inconclusive.",
  );
  const md = toMarkdown(table);
  assert.match(md, /\| C1 \| full > w\/o MMD \(R1\) \| ✓ \| \+6\.7 ± 1\.1 paired, 3 seeds \|/);
  assert.match(md, /\| :--- \| :--- \| :---: \| :--- \|/);
  assert.match(toHtml(table), /full &gt; baseline by ≥ 5/);
});

Deno.test("tableBundle has markdown, html and text and renders itself", () => {
  const bundle = tableBundle(comparisonTable(rows, { metrics: ["R1"], delta: false }));
  assert.deepEqual(Object.keys(bundle).sort(), ["text/html", "text/markdown", "text/plain"]);
  assert.ok(bundle[JUPYTER_DISPLAY]);
  assert.match(bundle["text/markdown"] as string, /\| full \| 41\.2 \| 40\.0 ± 2\.0 \|/);
  assert.throws(
    () => toMarkdown({ headers: ["a", "b"], rows: [["1"]] }),
    /row 1 has 1 cells, expected 2/,
  );
});

Deno.test("formatMeanStd", () => {
  assert.equal(formatMeanStd([1, 2, 3], 2), "2.00 ± 1.00");
  assert.equal(formatMeanStd([5]), "5.0");
  assert.equal(formatMeanStd({ mean: 5, std: 0.25, n: 1 }), "5.0");
  assert.equal(formatMeanStd([]), "—");
  assert.equal(formatMeanStd([4.8, 4.8, 4.8]), "4.8", "no ± 0.0 for a row that does not vary");
  assert.equal(
    toCsv({ headers: ["a", "b"], rows: [["x, y", 'say "hi"']] }),
    'a,b\n"x, y","say ""hi"""\n',
  );
  const collapsed = tableBundle({ title: "grid", headers: ["a", "b"], rows: [["1", "2"]] }, {
    collapsed: true,
  });
  assert.match(collapsed["text/html"] as string, /^<details><summary>grid \(1 rows × 1 columns/);
  assert.equal(formatMeanStd(null), "—");
});
