import assert from "node:assert/strict";
import sharp from "sharp";
import { LossHistory } from "../train/history.ts";
import {
  chartPng,
  escapeXml,
  figureBundle,
  figureBundleWithPng,
  logTicks,
  niceTicks,
  PLOTLY_MIME,
  type PlotlyFigure,
  renderSvg,
  roundForFigure,
} from "./chart.ts";
import { DISPLAY_METADATA, JUPYTER_DISPLAY } from "../runtime/display.ts";
import {
  ablationBars,
  chanceCmc,
  cmcCurves,
  featureScatter,
  forestPlot,
  lossCurves,
  meanStd,
} from "./plots.ts";

/** Tag balance of an SVG document (a small XML well-formedness check). */
function assertWellFormed(svg: string) {
  assert.ok(svg.startsWith("<svg "), "starts with <svg");
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, attrs, selfClosing] = m;
    assert.ok(!/[<&](?!amp;|lt;|gt;|quot;|#39;)/.test(attrs), `raw < or & in <${name}${attrs}>`);
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], "every element is closed");
  const text = svg.replace(/<[^>]*>/g, "");
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|#39;)/.test(text), "text has no raw &");
}

/** Pixel size librsvg reads from the SVG (proves it parses and renders). */
async function renderedSize(svg: string) {
  const meta = await sharp(new TextEncoder().encode(svg)).metadata();
  return { width: meta.width, height: meta.height };
}

function plotly(bundle: Record<string, unknown>): PlotlyFigure {
  return bundle[PLOTLY_MIME] as PlotlyFigure;
}

Deno.test("lossCurves: one Plotly line and one SVG path per series, gaps at NaN", async () => {
  const history = new LossHistory();
  for (let step = 0; step < 50; step++) {
    history.record(step, { generator: 2 / (1 + step), discriminator: step === 20 ? NaN : 0.7 });
  }
  const bundle = lossCurves(history, { title: "G vs D <losses> & more" });
  assert.deepEqual(Object.keys(bundle).sort(), [PLOTLY_MIME, "image/svg+xml", "text/plain"]);
  const fig = plotly(bundle);
  assert.deepEqual(fig.data.map((d) => d.name), ["generator", "discriminator"]);
  assert.equal((fig.data[0].x as number[]).length, 50);
  assert.equal((fig.data[1].y as (number | null)[])[20], null, "NaN becomes a Plotly gap");
  assert.equal((fig.layout.title as { text: string }).text, "G vs D <losses> & more");
  JSON.parse(JSON.stringify(fig)); // plain JSON, as the Jupyter message needs

  const svg = bundle["image/svg+xml"] as string;
  assertWellFormed(svg);
  assert.match(svg, /G vs D &lt;losses&gt; &amp; more/);
  for (const name of ["generator", "discriminator"]) {
    assert.match(svg, new RegExp(`<g class="trace line" data-name="${name}">`));
  }
  const paths = [...svg.matchAll(/data-name="discriminator"><path d="([^"]*)"/g)];
  assert.equal(paths.length, 1);
  assert.equal((paths[0][1].match(/M/g) ?? []).length, 2, "the NaN splits the line in two");
  assert.deepEqual(await renderedSize(svg), { width: 640, height: 400 });
  assert.ok(bundle[JUPYTER_DISPLAY], "renders itself when it ends a cell");
});

Deno.test("lossCurves: smoothing adds a faint raw line per series; input forms agree", () => {
  const series = { a: { steps: [0, 1, 2, 3], values: [4, 2, null, 1] } };
  const plain = plotly(lossCurves(series));
  assert.deepEqual(plotly(lossCurves({ series })).data, plain.data);
  const smoothed = plotly(lossCurves(series, { smooth: 0.6, logY: true }));
  assert.equal(smoothed.data.length, 2);
  assert.equal(smoothed.data[0].showlegend, false);
  assert.equal((smoothed.layout.yaxis as { type: string }).type, "log");
  assert.throws(() => lossCurves(series, { names: ["b"] }), /no series "b"/);
  assert.throws(
    () => lossCurves({ a: { steps: [0, 1], values: [1] } }),
    /2 steps but 1 values/,
  );
});

Deno.test("cmcCurves: percent axis, rank 1..maxRank, rank-1 in the legend", async () => {
  const bundle = cmcCurves([
    { name: "baseline", cmc: Array.from({ length: 50 }, (_, k) => Math.min(1, 0.4 + k * 0.02)) },
    { name: "ours", cmc: Array.from({ length: 50 }, (_, k) => Math.min(1, 0.55 + k * 0.02)) },
  ], { maxRank: 10 });
  const fig = plotly(bundle);
  assert.deepEqual(fig.data[0].x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(fig.data[1].name, "ours (R1 55.0%)");
  assert.equal((fig.layout.yaxis as { tickformat: string }).tickformat, ".0%");
  const svg = bundle["image/svg+xml"] as string;
  assertWellFormed(svg);
  assert.match(svg, />100%</);
  assert.match(svg, /data-name="baseline \(R1 40.0%\)"/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 20, "a marker per rank and curve");
  await renderedSize(svg);
  assert.throws(() => cmcCurves({ x: [40, 50] }), /outside \[0, 1\]/);
});

Deno.test("ablationBars: paper beside ours with ± std error bars", async () => {
  const rows = [
    { label: "full", paper: 41.2, ours: [38, 40, 42] },
    { label: "w/o MMD", paper: 35.0, ours: { mean: 33.3, std: 1.5, n: 3 } },
    { label: "extra", paper: null, ours: [30, 30, 30] },
  ];
  const bundle = ablationBars(rows, { metric: "Rank-1 (%)", title: "SAL Table 3" });
  const fig = plotly(bundle);
  assert.equal(fig.layout.barmode, "group");
  assert.deepEqual(fig.data[0].y, [41.2, 35, null]);
  assert.deepEqual(fig.data[1].y, [40, 33.3, 30]);
  const errors = (fig.data[1].error_y as { array: number[] }).array;
  assert.equal(errors[0], 2, "sample std of 38, 40, 42");
  assert.equal(errors[2], 0);
  assert.equal(fig.data[1].name, "ours (mean ± std, 3 seeds)");

  const svg = bundle["image/svg+xml"] as string;
  assertWellFormed(svg);
  const paperBars = svg.match(/data-name="paper">(.*?)<\/g>/)?.[1] ?? "";
  assert.equal((paperBars.match(/<rect /g) ?? []).length, 2, "no bar where the paper has none");
  const ourBars = svg.match(/data-name="ours[^"]*">(.*?)<\/g>/)?.[1] ?? "";
  assert.equal((ourBars.match(/<rect /g) ?? []).length, 3);
  assert.equal((ourBars.match(/class="error-bar"/g) ?? []).length, 2, "zero std draws none");
  assert.match(svg, />w\/o MMD</);
  assert.match(svg, />41.2</);
  await renderedSize(svg);
  assert.throws(() => ablationBars([rows[0], rows[0]], { metric: "x" }), /duplicate/);
});

Deno.test("featureScatter: colour by identity, marker by modality", async () => {
  const identity = [1, 1, 2, 2, 3, 3];
  const modality = ["RGB", "IR", "RGB", "IR", "RGB", "IR"];
  const embedding = {
    data: new Float32Array([0, 0, 0.1, 0.2, 5, 5, 5.2, 4.9, -3, 2, -2.8, 2.1]),
    rows: 6,
    dims: 2,
  };
  const bundle = featureScatter(embedding, { identity, modality });
  const fig = plotly(bundle);
  assert.deepEqual(fig.data.map((d) => d.name), ["RGB", "IR"]);
  const rgb = fig.data[0].marker as { color: string[]; symbol: string };
  const ir = fig.data[1].marker as { color: string[]; symbol: string };
  assert.notEqual(rgb.symbol, ir.symbol);
  assert.deepEqual(rgb.color, ir.color, "the same identities have the same colours");
  assert.equal(new Set(rgb.color).size, 3);
  assert.deepEqual(fig.data[1].x, [0.1, 5.2, -2.8], "float32 noise rounded to 4 digits");
  const svg = bundle["image/svg+xml"] as string;
  assertWellFormed(svg);
  assert.equal((svg.match(/data-name="RGB">(.*?)<\/g>/)?.[1].match(/<circle /g) ?? []).length, 3);
  assert.match(svg, /colour: identity \(3\)/);
  await renderedSize(svg);
  assert.throws(() => featureScatter({ x: [1], y: [1, 2] }, { identity: [1] }), /differ/);
});

Deno.test("ticks, escaping, PNG rendering", async () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 47), [0, 10, 20, 30, 40]);
  assert.deepEqual(logTicks(0.01, 10), [0.01, 0.1, 1, 10]);
  assert.deepEqual(logTicks(1, 20), [1, 2, 5, 10, 20]);
  assert.equal(escapeXml(`a<b & "c"`), "a&lt;b &amp; &quot;c&quot;");
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
  const chart = {
    x: {},
    y: {},
    traces: [{ kind: "line" as const, name: "l", x: [0, 1], y: [0, 1] }],
    width: 200,
    height: 100,
  };
  const png = await chartPng(chart, 1);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, 200);
  const withPng = await figureBundleWithPng(chart);
  assert.ok(typeof withPng["image/png"] === "string" && withPng["image/svg+xml"]);
  assert.ok(renderSvg(chart).includes('data-name="l"'));
});

Deno.test("a figure's display form: Plotly JSON, a palette PNG at 1.5x, text; rounded floats", async () => {
  const chart = {
    title: "t",
    x: { label: "step" },
    y: { label: "loss" },
    traces: [{ kind: "line" as const, name: "l", x: [0, 1, 2], y: [0.123456789, 1 / 3, NaN] }],
    width: 300,
    height: 200,
  };
  const bundle = figureBundle(chart);
  const shown = await bundle[JUPYTER_DISPLAY]();
  assert.deepEqual(Object.keys(shown).sort(), [PLOTLY_MIME, "image/png", "text/plain"]);
  assert.deepEqual(plotly(shown).data[0].y, [0.1235, 0.3333, null]);
  const png = Uint8Array.from(atob(shown["image/png"] as string), (c) => c.charCodeAt(0));
  // IHDR: width and height (big-endian) at bytes 16-23, colour type at byte 25 (3 = palette).
  const view = new DataView(png.buffer);
  assert.equal(view.getUint32(16), 450);
  assert.equal(view.getUint32(20), 300);
  assert.equal(png[25], 3, "an indexed-colour PNG, no alpha channel");
  assert.deepEqual((bundle as unknown as Record<symbol, unknown>)[DISPLAY_METADATA], {
    "image/png": { width: 300 },
  });
  assert.equal(roundForFigure(12345.678), 12350);
  assert.equal(roundForFigure(7), 7);
  assert.equal(roundForFigure(Infinity), null);
});

Deno.test("chanceCmc is the CMC of a random ranking; cmcCurves draws it dashed; forestPlot colours by verdict", () => {
  assert.deepEqual(chanceCmc([{ matches: 1, candidates: 4 }], 4), [0.25, 0.5, 0.75, 1]);
  const two = chanceCmc([{ matches: 2, candidates: 4 }, { matches: 0, candidates: 4 }], 2);
  assert.ok(Math.abs(two[0] - 0.5) < 1e-12 && Math.abs(two[1] - 5 / 6) < 1e-12);
  const fig = plotly(cmcCurves({ a: [0.5, 1] }, { chance: [0.25, 0.5] }));
  assert.equal(fig.data.length, 2);
  assert.equal((fig.data[1].line as { dash: string }).dash, "dash");
  assert.match(String(fig.data[1].name), /^chance \(R1 25\.0%\)/);
  const forest = forestPlot([
    { label: "C1", mean: 2, std: 0.5, verdict: "✓", paper: 8.6 },
    { label: "C2", mean: -0.1, std: 1, verdict: "~" },
  ]);
  const f = plotly(forest);
  assert.deepEqual(f.data.map((d) => d.name), ["paper's difference", "✓ holds", "~ inconclusive"]);
  assert.deepEqual((f.data[1].error_y as { array: number[] }).array, [0.5]);
});
