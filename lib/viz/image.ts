/**
 * Images sized for the page: a picture (contact sheet, camera grid) shown in a notebook is
 * re-encoded at most `scale` × its display width, as a 64-colour palette PNG without alpha or
 * dithering, so an executed notebook stays small (the 650 KB Market-1501 contact sheet becomes
 * 160 KB at 720 px).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import sharp from "sharp";
import { escapeXml } from "./chart.ts";
import {
  DISPLAY_METADATA,
  type Displayable,
  displayable,
  type MimeBundle,
  toBase64,
} from "../runtime/display.ts";

/** Options of {@link pageImage}. */
export interface PageImageOptions {
  /** CSS width on the page in pixels (default 720). */
  width?: number;
  /** The text form: what the picture shows. */
  alt: string;
  /** Pixel density over the CSS width (default 1). */
  scale?: number;
  /**
   * A line written above the picture, in the picture (so it survives every viewer), e.g.
   * "left half: visible light · right half: the same people in thermal infrared".
   */
  caption?: string;
}

/**
 * `image` (any format sharp reads) as a palette PNG at most `scale × width` pixels wide, with
 * `caption` written in a strip above it.
 */
export async function pagePng(
  image: Uint8Array | string,
  width = 720,
  scale = 1,
  caption?: string,
): Promise<Uint8Array> {
  let picture = await sharp(image)
    .resize({ width: Math.round(width * scale), withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
    .png()
    .toBuffer();
  if (caption) {
    const meta = await sharp(picture).metadata();
    // Word-wrapped to the picture's width (about 7 px per character at 13 px).
    const perLine = Math.max(20, Math.floor(meta.width! / (7 * scale)));
    const rows: string[] = [];
    for (const word of caption.split(" ")) {
      const last = rows.at(-1);
      if (last !== undefined && `${last} ${word}`.length <= perLine) {
        rows[rows.length - 1] = `${last} ${word}`;
      } else rows.push(word);
    }
    const lineHeight = Math.round(17 * scale);
    const strip = rows.length * lineHeight + Math.round(5 * scale);
    const text =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${meta.width}" height="${strip}">` +
      rows.map((row, i) =>
        `<text x="4" y="${(i + 1) * lineHeight - Math.round(3 * scale)}" font-size="${
          Math.round(13 * scale)
        }" font-family="Helvetica, Arial, sans-serif">${escapeXml(row)}</text>`
      ).join("") + `</svg>`;
    picture = await sharp({
      create: {
        width: meta.width!,
        height: meta.height! + strip,
        channels: 3,
        background: "#ffffff",
      },
    }).composite([
      { input: Buffer.from(text), left: 0, top: 0 },
      { input: picture, left: 0, top: strip },
    ]).png().toBuffer();
  }
  const out = await sharp(picture)
    .png({ palette: true, colours: 64, compressionLevel: 9, effort: 7, dither: 0 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * A picture as a bundle for the page ({@link pagePng}), shown at `width` CSS pixels by
 * `display` and rendering itself when it ends a cell.
 */
export async function pageImage(
  image: Uint8Array | string,
  options: PageImageOptions,
): Promise<MimeBundle & Displayable> {
  const width = options.width ?? 720;
  const png = await pagePng(image, width, options.scale ?? 1, options.caption);
  const bundle: MimeBundle = { "image/png": toBase64(png), "text/plain": options.alt };
  Object.defineProperty(bundle, DISPLAY_METADATA, {
    value: { "image/png": { width } },
    enumerable: false,
  });
  return displayable(bundle, () => ({ ...bundle }));
}
