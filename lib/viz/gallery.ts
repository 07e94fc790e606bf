/**
 * Ranked galleries (docs/design.md, 'Display'): one row per query — the query image (or,
 * for an attribute query, its attributes written out), then its top-k gallery
 * images with green (true match) / red (wrong) borders. Gallery items the
 * protocol ignores for that query (Market-1501: same identity *and* same camera;
 * SYSU-MM01: camera 3 queries skip camera 2; junk ids) are skipped exactly as
 * `lib/eval` skips them, so the picture shows the ranking the metrics scored.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import sharp from "sharp";
import type { DistanceMatrix } from "../eval/distance.ts";
import { categoryKey } from "../eval/evaluate.ts";
import type { EvalItem, ExclusionRule, MatchBy } from "../eval/protocols.ts";
import { escapeXml } from "./chart.ts";
import { type Displayable, displayable, type MimeBundle, toBase64 } from "../runtime/display.ts";

/** An image to show: a file path, an encoded file, or decoded pixels (H × W × channels). */
export type GalleryImage =
  | string
  | Uint8Array
  | { pixels: Uint8Array; width: number; height: number; channels?: 1 | 3 | 4 };

/** The part of a protocol the gallery follows (a `StandardProtocol` fits). */
export interface GalleryProtocol {
  exclude: ExclusionRule[];
  matchBy: MatchBy;
}

/** Options of {@link rankedGallery}. */
export interface GalleryOptions {
  /** Query × gallery distances (smaller = more similar), as `lib/eval` takes them. */
  dist: DistanceMatrix;
  query: EvalItem[];
  gallery: EvalItem[];
  /** Which queries get a row (indices into `query`). */
  rows: number[];
  /** Gallery images per row (default 10). */
  k?: number;
  /** The protocol whose exclusions and match rule to follow (default: match by pid, no exclusions). */
  protocol?: GalleryProtocol;
  /** Overrides the protocol's exclusions: true = the gallery item is skipped for that query. */
  exclude?: (queryIndex: number, galleryIndex: number) => boolean;
  /** Overrides the protocol's match rule. */
  isMatch?: (queryIndex: number, galleryIndex: number) => boolean;
  /** The image of a query; null for attribute queries (their attributes are written out). */
  queryImage: (queryIndex: number) => GalleryImage | null | Promise<GalleryImage | null>;
  galleryImage: (galleryIndex: number) => GalleryImage | Promise<GalleryImage>;
  /** Attribute names, to write out attribute queries (those set to 1 are listed). */
  attributeNames?: string[];
  /** Text under the query (default "q<index> id <pid> cam <camid>"). */
  queryLabel?: (queryIndex: number) => string;
  /** Tile size in pixels (default 64 × 128, the usual person crop shape). */
  tileWidth?: number;
  tileHeight?: number;
  title?: string;
  /** What the query column shows, written above it (e.g. "IR query", "Duke-like query"). */
  queryHeading?: string;
  /** What the ranked items are, written above them (e.g. "RGB gallery, nearest first"). */
  galleryHeading?: string;
  /**
   * When a query's first true match is not in its top k, show it after a gap, with its rank
   * (default true): a miss then shows what the model should have found.
   */
  showFirstMatch?: boolean;
}

/** One shown gallery item. */
export interface RankedItem {
  galleryIndex: number;
  /** 1-based rank after the exclusions. */
  rank: number;
  distance: number;
  match: boolean;
}

/** One row of the gallery: a query and its shown top-k. */
export interface GalleryRow {
  queryIndex: number;
  items: RankedItem[];
  /** Gallery items skipped for this query by the protocol. */
  excluded: number;
  /** Whether any true match is left after exclusions (the query counts in the metrics). */
  valid: boolean;
  /** The best-ranked true match when it is not among `items` (rank > k). */
  firstMatch?: RankedItem;
}

/** The composed gallery. */
export interface RankedGallery {
  rows: GalleryRow[];
  png: Uint8Array;
  width: number;
  height: number;
  /** `image/png` + `text/plain`; renders itself when it ends a cell. */
  bundle: MimeBundle & Displayable;
}

/** Whether every condition a rule sets holds for (query q, gallery item g). */
function ruleHolds(rule: ExclusionRule, q: EvalItem, g: EvalItem, match: boolean): boolean {
  if (rule.samePid && g.pid !== q.pid) return false;
  if (rule.sameCamera && g.camid !== q.camid) return false;
  if (rule.sameMatch && !match) return false;
  if (rule.queryCameras && !rule.queryCameras.includes(q.camid)) return false;
  if (rule.galleryCameras && !rule.galleryCameras.includes(g.camid)) return false;
  if (rule.galleryPids && !rule.galleryPids.includes(g.pid)) return false;
  return true;
}

/** Whether `g` is a true match for `q` under `matchBy`. */
export function itemsMatch(q: EvalItem, g: EvalItem, matchBy: MatchBy): boolean {
  return matchBy === "pid" ? q.pid === g.pid : categoryKey(q) === categoryKey(g);
}

/**
 * Whether the protocol ignores gallery item `g` for query `q`: any of its rules
 * holds (the semantics `evaluate` applies).
 *
 * @see notebooks/00_introduction.ipynb §3 (the metrics, on a toy example)
 */
export function isExcluded(protocol: GalleryProtocol, q: EvalItem, g: EvalItem): boolean {
  const match = itemsMatch(q, g, protocol.matchBy);
  return protocol.exclude.some((rule) => ruleHolds(rule, q, g, match));
}

/**
 * The ranking behind a gallery row: gallery items by ascending distance (ties by
 * index, as `evaluate` orders them), skipping excluded items, first `k` kept.
 */
export function rankRow(options: GalleryOptions, queryIndex: number): GalleryRow {
  const { dist, query, gallery } = options;
  if (dist.rows !== query.length || dist.cols !== gallery.length) {
    throw new Error(
      `rankedGallery: distance matrix is ${dist.rows} × ${dist.cols}, expected ` +
        `${query.length} queries × ${gallery.length} gallery items`,
    );
  }
  if (!(queryIndex >= 0 && queryIndex < query.length)) {
    throw new Error(`rankedGallery: query index ${queryIndex} outside 0..${query.length - 1}`);
  }
  const protocol = options.protocol ?? { exclude: [], matchBy: "pid" as const };
  const q = query[queryIndex];
  const isMatch = options.isMatch ??
    ((_: number, gi: number) => itemsMatch(q, gallery[gi], protocol.matchBy));
  const exclude = options.exclude ??
    ((_: number, gi: number) => isExcluded(protocol, q, gallery[gi]));
  const row = dist.data.subarray(queryIndex * dist.cols, (queryIndex + 1) * dist.cols);
  const order = Array.from({ length: dist.cols }, (_, i) => i)
    .sort((a, b) => row[a] - row[b] || a - b);
  const k = options.k ?? 10;
  const items: RankedItem[] = [];
  let excluded = 0;
  let valid = false;
  let rank = 0;
  let firstMatch: RankedItem | undefined;
  for (const gi of order) {
    if (exclude(queryIndex, gi)) {
      excluded++;
      continue;
    }
    rank++;
    const match = isMatch(queryIndex, gi);
    if (match && !valid && rank > k) {
      firstMatch = { galleryIndex: gi, rank, distance: row[gi], match };
    }
    valid ||= match;
    if (items.length < k) {
      items.push({ galleryIndex: gi, rank, distance: row[gi], match });
    }
  }
  return { queryIndex, items, excluded, valid, ...(firstMatch ? { firstMatch } : {}) };
}

/** Colours of the borders (also used by tests to find them). */
export const MATCH_COLOR = { r: 0x1a, g: 0xa0, b: 0x3a } as const;
/** Border colour of a wrong item. */
export const MISMATCH_COLOR = { r: 0xd6, g: 0x27, b: 0x28 } as const;
const hex = (c: { r: number; g: number; b: number }) =>
  `#${[c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;

/** Pixel layout of a gallery (exposed so tests can look at the right places). */
export interface GalleryLayout {
  tileWidth: number;
  tileHeight: number;
  border: number;
  gap: number;
  /** Extra gap between the query and its ranked items. */
  queryGap: number;
  top: number;
  left: number;
  /** Height of one row (tile + borders + caption). */
  rowHeight: number;
  captionHeight: number;
  queryWidth: number;
}

const LEGEND_HEIGHT = 42;

/** The layout {@link rankedGallery} uses for these options. */
export function galleryLayout(options: GalleryOptions): GalleryLayout {
  const tileWidth = options.tileWidth ?? 64;
  const tileHeight = options.tileHeight ?? 128;
  const border = 4;
  const captionHeight = 16;
  return {
    tileWidth,
    tileHeight,
    border,
    gap: 6,
    queryGap: 18,
    // Title, then one line of legend and the column headings.
    top: (options.title ? 28 : 8) + LEGEND_HEIGHT,
    left: 8,
    rowHeight: tileHeight + 2 * border + captionHeight + 10,
    captionHeight,
    // Attribute queries need room for their words.
    queryWidth: Math.max(tileWidth, options.attributeNames ? 150 : 0),
  };
}

/** x of the left edge (outer border) of ranked item `j` (0-based) in a row. */
export function itemX(layout: GalleryLayout, j: number): number {
  return layout.left + layout.queryWidth + 2 * layout.border + layout.queryGap +
    j * (layout.tileWidth + 2 * layout.border + layout.gap);
}

async function tileBuffer(image: GalleryImage, width: number, height: number): Promise<Buffer> {
  let input: sharp.Sharp;
  if (typeof image === "string" || image instanceof Uint8Array) {
    input = sharp(image);
  } else {
    const channels = image.channels ?? 3;
    if (image.pixels.length !== image.width * image.height * channels) {
      throw new Error(
        `rankedGallery: ${image.pixels.length} pixel bytes for a ${image.width} × ${image.height} ` +
          `× ${channels} image`,
      );
    }
    input = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels } });
  }
  return await input
    .resize(width, height, { fit: "contain", background: { r: 240, g: 240, b: 240 } })
    .removeAlpha()
    .png()
    .toBuffer();
}

/** The words written for an attribute query: the attributes set to 1. */
export function attributeWords(item: EvalItem, names: string[] | undefined): string[] {
  if (!item.attributes) return item.category !== undefined ? [String(item.category)] : [];
  const words: string[] = [];
  Array.from(item.attributes).forEach((v, i) => {
    if (v === 1) words.push(names?.[i] ?? `attr ${i}`);
  });
  return words.length > 0 ? words : ["(no attribute set)"];
}

/**
 * Compose the ranked gallery as one PNG (via sharp): a row per query, top-k
 * with green/red borders, rank and distance under each item, excluded items
 * skipped; a legend says what the colours and numbers mean and, when given, what the query
 * and gallery columns show (modality, domain). When a query's first true match ranks below
 * k, it is shown after a gap with its rank. A row whose query has no true match left is
 * marked "no match". The PNG is 8-bit palette, without alpha.
 *
 * @see notebooks/00_introduction.ipynb §5 (a ranked gallery)
 */
export async function rankedGallery(options: GalleryOptions): Promise<RankedGallery> {
  if (options.rows.length === 0) throw new Error("rankedGallery: no query rows given");
  const k = options.k ?? 10;
  if (!(k >= 1)) throw new Error(`rankedGallery: k must be ≥ 1, got ${k}`);
  const rows = options.rows.map((qi) => rankRow(options, qi));
  const L = galleryLayout(options);
  const showFirst = (options.showFirstMatch ?? true) && rows.some((r) => r.firstMatch);
  // The first-match slot sits one tile after the top k, past a gap of half a tile.
  const firstX = itemX(L, k) + Math.round(L.tileWidth / 2);
  const width = (showFirst ? firstX + L.tileWidth + 2 * L.border + L.gap : itemX(L, k)) + L.left;
  const height = L.top + rows.length * L.rowHeight;
  const composites: sharp.OverlayOptions[] = [];
  const svg: string[] = [];
  const font = `font-family="Helvetica, Arial, sans-serif"`;
  if (options.title) {
    svg.push(
      `<text x="${L.left}" y="19" font-size="14" ${font}>${escapeXml(options.title)}</text>`,
    );
  }
  // Two legend lines, short enough for a gallery of narrow tiles.
  const legendY = (options.title ? 28 : 8) + 11;
  svg.push(
    `<text x="${L.left}" y="${legendY}" font-size="10" fill="#444" ${font}>` +
      `<tspan fill="${hex(MATCH_COLOR)}">■ same person</tspan>  ` +
      `<tspan fill="${hex(MISMATCH_COLOR)}">■ another person</tspan>` +
      `${showFirst ? ` · right of the gap: the first true match, ranked below the top ${k}` : ""}` +
      `</text>`,
    `<text x="${L.left}" y="${legendY + 12}" font-size="10" fill="#444" ${font}>` +
      `under each image: #rank and distance to the query (smaller = closer)</text>`,
  );
  const headingY = legendY + 26;
  if (options.queryHeading) {
    svg.push(
      `<text x="${L.left}" y="${headingY}" font-size="11" font-weight="bold" ${font}>${
        escapeXml(options.queryHeading)
      }</text>`,
    );
  }
  if (options.galleryHeading) {
    svg.push(
      `<text x="${itemX(L, 0)}" y="${headingY}" font-size="11" font-weight="bold" ${font}>${
        escapeXml(options.galleryHeading)
      }</text>`,
    );
  }

  for (const [r, row] of rows.entries()) {
    const y = L.top + r * L.rowHeight;
    const q = options.query[row.queryIndex];
    const qImage = await options.queryImage(row.queryIndex);
    const qx = L.left;
    // The query: a neutral frame around its image, or its attributes as text.
    svg.push(
      `<rect x="${qx + 1}" y="${y + 1}" width="${L.queryWidth + 2 * L.border - 2}" height="${
        L.tileHeight + 2 * L.border - 2
      }" fill="${qImage ? "none" : "#f7f7f7"}" stroke="#555" stroke-width="2"/>`,
    );
    if (qImage) {
      const offset = Math.floor((L.queryWidth - L.tileWidth) / 2);
      composites.push({
        input: await tileBuffer(qImage, L.tileWidth, L.tileHeight),
        left: qx + L.border + offset,
        top: y + L.border,
      });
    } else {
      const words = attributeWords(q, options.attributeNames);
      const lineHeight = 12;
      const maxLines = Math.floor((L.tileHeight - 8) / lineHeight);
      const shown = words.length > maxLines
        ? [...words.slice(0, maxLines - 1), `+${words.length - maxLines + 1} more`]
        : words;
      shown.forEach((word, i) => {
        svg.push(
          `<text x="${qx + L.border + 4}" y="${
            y + L.border + 12 + i * lineHeight
          }" font-size="10" ${font}>${escapeXml(word)}</text>`,
        );
      });
    }
    const label = options.queryLabel?.(row.queryIndex) ??
      `q${row.queryIndex} id ${q.pid} cam ${q.camid}`;
    svg.push(
      `<text x="${qx}" y="${y + L.tileHeight + 2 * L.border + 12}" font-size="10" ${font}>${
        escapeXml(label + (row.valid ? "" : " · no match"))
      }</text>`,
    );

    const shown = row.items.map((item, j) => ({ item, x: itemX(L, j) }));
    if (showFirst && row.firstMatch) shown.push({ item: row.firstMatch, x: firstX });
    for (const { item, x } of shown) {
      const color = hex(item.match ? MATCH_COLOR : MISMATCH_COLOR);
      svg.push(
        `<rect class="${item.match ? "match" : "mismatch"}" x="${x}" y="${y}" width="${
          L.tileWidth + 2 * L.border
        }" height="${L.tileHeight + 2 * L.border}" fill="${color}"/>`,
        `<text x="${x}" y="${y + L.tileHeight + 2 * L.border + 12}" font-size="10" ${font}>${
          escapeXml(`#${item.rank} ${item.distance.toPrecision(3)}`)
        }</text>`,
      );
      composites.push({
        input: await tileBuffer(
          await options.galleryImage(item.galleryIndex),
          L.tileWidth,
          L.tileHeight,
        ),
        left: x + L.border,
        top: y + L.border,
      });
    }
  }

  // Borders and text go underneath the tiles: each border is a filled rectangle
  // the tile then covers, leaving a frame of `border` pixels.
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${
    svg.join("")
  }</svg>`;
  const out = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  })
    .composite([{ input: Buffer.from(overlay), left: 0, top: 0 }, ...composites])
    .flatten({ background: "#ffffff" })
    .png({ palette: true, colours: 128, compressionLevel: 9, effort: 7, dither: 0 })
    .toBuffer();
  const png = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const summary = rows.map((row) =>
    `q${row.queryIndex}: ${row.items.map((i) => (i.match ? "✓" : "✗")).join("")}${
      row.firstMatch ? ` (first true match at rank ${row.firstMatch.rank})` : ""
    }`
  ).join("\n");
  const data: MimeBundle = {
    "image/png": toBase64(png),
    "text/plain": `[ranked gallery, top-${k}]\n${summary}`,
  };
  const bundle = displayable(data, () => ({ ...data }));
  return { rows, png, width, height, bundle };
}
