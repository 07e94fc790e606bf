/**
 * The scripts and styles an offline results page needs, read from the npm packages pinned in
 * deno.json (no network at build or view time): plotly.js for the interactive figures, KaTeX
 * with its auto-render extension for `$…$` / `$$…$$` math, its CSS with the WOFF2 fonts
 * inlined as data URIs, and the two small scripts that start them.
 *
 * @module
 */
import { join } from "node:path";
import { toBase64 } from "../runtime/display.ts";
import { repoPath } from "../runtime/paths.ts";

/** Where `deno install` puts an npm package of deno.json's imports. */
function packageDir(name: string): string {
  return repoPath("node_modules", name);
}

async function readPackageFile(name: string, file: string): Promise<string> {
  const path = join(packageDir(name), file);
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${path} is missing: run \`deno install\` (the results page embeds ${name} from node_modules)`,
      );
    }
    throw error;
  }
}

/** KaTeX's CSS with each font as a WOFF2 data URI (the WOFF and TTF fallbacks dropped). */
export async function katexCss(): Promise<string> {
  const dir = join(packageDir("katex"), "dist");
  const css = await readPackageFile("katex", "dist/katex.min.css");
  const fonts = new Map<string, string>();
  for (const m of css.matchAll(/url\((fonts\/[^)]+\.woff2)\)/g)) {
    if (fonts.has(m[1])) continue;
    const bytes = await Deno.readFile(join(dir, m[1]));
    fonts.set(m[1], `data:font/woff2;base64,${toBase64(bytes)}`);
  }
  return css
    .replace(/,\s*url\(fonts\/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)/g, "")
    .replace(/url\((fonts\/[^)]+\.woff2)\)/g, (_, file: string) => `url(${fonts.get(file)})`);
}

/** Starts KaTeX on the page's `$…$`, `$$…$$`, `\(…\)` and `\[…\]` math, once it has loaded. */
const START_MATH = `document.addEventListener("DOMContentLoaded", function () {
  renderMathInElement(document.body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\\\[", right: "\\\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\\\(", right: "\\\\)", display: false }
    ],
    ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code"],
    throwOnError: false
  });
  document.body.setAttribute("data-math", "typeset");
});`;

/** Replaces each `.reid-plotly` placeholder (figure JSON + PNG) by the interactive figure. */
const START_PLOTLY = `document.addEventListener("DOMContentLoaded", function () {
  var boxes = document.querySelectorAll(".reid-plotly");
  var pending = boxes.length;
  if (pending === 0) document.body.setAttribute("data-plots", "drawn");
  boxes.forEach(function (box) {
    var fig = JSON.parse(box.getAttribute("data-figure"));
    var png = box.querySelector("img.reid-fallback");
    var target = document.createElement("div");
    box.appendChild(target);
    Plotly.newPlot(target, fig.data, fig.layout, { displaylogo: false, responsive: false })
      .then(function () {
        if (png) png.remove();
        box.setAttribute("data-drawn", "1");
      })
      .catch(function (e) { box.setAttribute("data-error", String(e)); })
      .finally(function () {
        if (--pending === 0) document.body.setAttribute("data-plots", "drawn");
      });
  });
});`;

/** The `<script>` / `<style>` block that makes a page's figures and math work offline. */
export async function offlineAssets(): Promise<string> {
  const plotly = await readPackageFile("plotly.js-dist-min", "plotly.min.js");
  const katex = await readPackageFile("katex", "dist/katex.min.js");
  const autoRender = await readPackageFile("katex", "dist/contrib/auto-render.min.js");
  // "</script" inside a script would end it early; the minified bundles are escaped for safety.
  const script = (code: string) => `<script>${code.replaceAll("</script", "<\\/script")}</script>`;
  return [
    `<style>${await katexCss()}</style>`,
    `<style>.reid-plotly{margin:4px 0}.reid-plotly img{max-width:100%}</style>`,
    script(plotly),
    script(katex),
    script(autoRender),
    script(START_MATH),
    script(START_PLOTLY),
  ].join("\n");
}
