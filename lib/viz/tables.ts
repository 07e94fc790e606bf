/**
 * Result tables (docs/design.md, 'Display'): the paper's numbers beside ours (mean ± std
 * over seeds), and claims with ✓/✗ — as Markdown, HTML and plain text in one
 * MIME bundle (Jupyter frontends and nbconvert show the HTML; Markdown is what
 * the results README embeds).
 *
 * @module
 */
import { escapeXml } from "./chart.ts";
import { type Displayable, displayable, type MimeBundle } from "../runtime/display.ts";
import { meanStd, type OursValue } from "./plots.ts";

/** Column alignment. */
export type Align = "left" | "right" | "center";

/** A plain table: header cells, body rows, alignment per column. */
export interface Table {
  title?: string;
  headers: string[];
  rows: string[][];
  align?: Align[];
  /** Text under the table (sources, seeds, units). */
  caption?: string;
}

function checkShape(table: Table) {
  for (const [i, row] of table.rows.entries()) {
    if (row.length !== table.headers.length) {
      throw new Error(
        `table "${table.title ?? ""}": row ${i + 1} has ${row.length} cells, ` +
          `expected ${table.headers.length} (one per header)`,
      );
    }
  }
}

const mdCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** GitHub-flavoured Markdown of a table. */
export function toMarkdown(table: Table): string {
  checkShape(table);
  const align = table.headers.map((_, i) => table.align?.[i] ?? (i === 0 ? "left" : "right"));
  const rule = align.map((a) => (a === "left" ? ":---" : a === "right" ? "---:" : ":---:"));
  const lines = [
    ...(table.title ? [`**${mdCell(table.title)}**`, ""] : []),
    `| ${table.headers.map(mdCell).join(" | ")} |`,
    `| ${rule.join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(mdCell).join(" | ")} |`),
  ];
  if (table.caption) lines.push("", mdCell(table.caption));
  return lines.join("\n") + "\n";
}

/** An HTML table (escaped; inline styles only, so it survives nbconvert and GitHub). */
export function toHtml(table: Table): string {
  checkShape(table);
  const align = table.headers.map((_, i) => table.align?.[i] ?? (i === 0 ? "left" : "right"));
  const cell = (tag: string, text: string, i: number) =>
    `<${tag} style="text-align:${align[i]};padding:2px 8px">${escapeXml(text)}</${tag}>`;
  return [
    `<table style="border-collapse:collapse">`,
    table.title ? `<caption style="font-weight:bold">${escapeXml(table.title)}</caption>` : "",
    `<thead><tr>${table.headers.map((h, i) => cell("th", h, i)).join("")}</tr></thead>`,
    `<tbody>`,
    ...table.rows.map((row) => `<tr>${row.map((c, i) => cell("td", c, i)).join("")}</tr>`),
    `</tbody></table>`,
    table.caption ? `<p style="font-size:90%">${escapeXml(table.caption)}</p>` : "",
  ].join("\n");
}

/** Fixed-width plain text of a table. */
export function toText(table: Table): string {
  checkShape(table);
  const widths = table.headers.map((h, i) =>
    Math.max([...h].length, ...table.rows.map((r) => [...r[i]].length))
  );
  const pad = (text: string, i: number) => {
    const fill = " ".repeat(widths[i] - [...text].length);
    return (table.align?.[i] ?? (i === 0 ? "left" : "right")) === "left"
      ? text + fill
      : fill + text;
  };
  const line = (cells: string[]) => cells.map(pad).join("  ").trimEnd();
  return [
    ...(table.title ? [table.title] : []),
    line(table.headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...table.rows.map(line),
    ...(table.caption ? [table.caption] : []),
  ].join("\n");
}

/**
 * A table as a MIME bundle (Markdown, HTML, text) that renders itself when it ends a cell.
 * `collapsed`: the HTML is a closed `<details>` section whose summary is the title (a long
 * grid that the reader opens on demand).
 */
export function tableBundle(
  table: Table,
  options: { collapsed?: boolean } = {},
): MimeBundle & Displayable {
  const html = toHtml(table);
  const bundle: MimeBundle = {
    "text/html": options.collapsed
      ? `<details><summary>${escapeXml(table.title ?? "table")} (${table.rows.length} rows × ${
        table.headers.length - 1
      } columns; click to open)</summary>\n${html}\n</details>`
      : html,
    "text/markdown": toMarkdown(table),
    "text/plain": toText(table),
  };
  return displayable(bundle, () => ({ ...bundle }));
}

/** CSV of a table (RFC 4180 quoting), for the full grid beside the compact one. */
export function toCsv(table: Table): string {
  checkShape(table);
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [table.headers, ...table.rows].map((r) => r.map(q).join(",")).join("\n") + "\n";
}

/**
 * "40.0 ± 2.0" (sample std over seeds); "40.0" for one value, and for values that are the
 * same for every seed (a row that does not train: ± 0.0 would suggest a measured spread);
 * "—" for none.
 */
export function formatMeanStd(value: OursValue | null | undefined, decimals = 1): string {
  if (value === null || value === undefined) return "—";
  const s = Array.isArray(value) ? meanStd(value) : { ...value, n: value.n ?? 2 };
  if (!Number.isFinite(s.mean)) return "—";
  if (s.n <= 1 || !Number.isFinite(s.std) || s.std === 0) return s.mean.toFixed(decimals);
  return `${s.mean.toFixed(decimals)} ± ${s.std.toFixed(decimals)}`;
}

/** A number or "—". */
export function formatNumber(value: number | null | undefined, decimals = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "—"
    : value.toFixed(decimals);
}

/** One row of a {@link comparisonTable}. */
export interface ComparisonRow {
  label: string;
  /** The paper's number per metric (missing / null: not reported). */
  paper: Record<string, number | null | undefined>;
  /** Ours per metric: per-seed values or their summary. */
  ours: Record<string, OursValue | null | undefined>;
}

/** Options of {@link comparisonTable}. */
export interface ComparisonOptions {
  title?: string;
  /** The metrics, in column order, e.g. ["R1", "R10", "mAP"]. */
  metrics: string[];
  decimals?: number;
  /** Add "Δ" columns: our mean − the paper's (default true). */
  delta?: boolean;
  caption?: string;
}

/** The paper's numbers beside ours (mean ± std), per metric, one row per table row. */
export function comparisonTable(rows: ComparisonRow[], options: ComparisonOptions): Table {
  const decimals = options.decimals ?? 1;
  const delta = options.delta ?? true;
  const headers = ["row"];
  for (const m of options.metrics) {
    headers.push(`${m} paper`, `${m} ours`, ...(delta ? [`${m} Δ`] : []));
  }
  const body = rows.map((row) => {
    const cells = [row.label];
    for (const m of options.metrics) {
      const paper = row.paper[m];
      const ours = row.ours[m];
      cells.push(formatNumber(paper, decimals), formatMeanStd(ours, decimals));
      if (delta) {
        const mean = ours === null || ours === undefined
          ? NaN
          : Array.isArray(ours)
          ? meanStd(ours).mean
          : ours.mean;
        const d = paper === null || paper === undefined ? NaN : mean - paper;
        cells.push(Number.isFinite(d) ? `${d >= 0 ? "+" : ""}${d.toFixed(decimals)}` : "—");
      }
    }
    return cells;
  });
  return { title: options.title, headers, rows: body, caption: options.caption };
}

/** One claim of a paper and whether our runs support it. */
export interface ClaimRow {
  /** Short id, e.g. "C1". */
  id?: string;
  /** The claim in words, e.g. "full > w/o MMD on R1". */
  text: string;
  /** true: holds; false: does not; null: not evaluated (e.g. a row not run). */
  holds: boolean | null;
  /**
   * The verdict, when it is more than holds / does not: ✓ holds, ✗ contradicted beyond the
   * noise, ~ inconclusive, — no data. Takes precedence over `holds`.
   */
  verdict?: "✓" | "✗" | "~" | "—";
  /** The evidence, e.g. paired differences "+2.1 ± 0.8 over 3 seeds". */
  evidence?: string;
}

/** The verdict mark of a claim. */
export function verdictMark(holds: boolean | null): string {
  return holds === true ? "✓" : holds === false ? "✗" : "—";
}

/** The one verdict vocabulary of tables, figures and notebooks. */
export const VERDICT_LEGEND = "✓ holds · ✗ contradicted beyond the noise · ~ inconclusive";

/** "2 ✓ holds, 1 ✗ contradicted, 9 ~ inconclusive (of 12)": the count of each verdict. */
export function verdictCounts(verdicts: readonly string[]): string {
  const count = (v: string) => verdicts.filter((x) => x === v).length;
  const parts = [
    `${count("✓")} ✓ hold`,
    `${count("✗")} ✗ contradicted`,
    `${count("~")} ~ inconclusive`,
    ...(count("—") > 0 ? [`${count("—")} — no data`] : []),
  ];
  return `${parts.join(", ")} (of ${verdicts.length})`;
}

/** Claims with ✓ / ✗ / ~ and their evidence; the caption counts each verdict. */
export function claimsTable(claims: ClaimRow[], options: { title?: string } = {}): Table {
  const withIds = claims.some((c) => c.id);
  const marks = claims.map((c) => c.verdict ?? verdictMark(c.holds));
  return {
    title: options.title,
    headers: [...(withIds ? ["id"] : []), "claim", "verdict", "evidence"],
    align: [...(withIds ? ["left" as const] : []), "left", "center", "left"],
    rows: claims.map((c, i) => [
      ...(withIds ? [c.id ?? ""] : []),
      c.text,
      marks[i],
      c.evidence ?? "",
    ]),
    caption: `${verdictCounts(marks)}. ${VERDICT_LEGEND}.`,
  };
}
