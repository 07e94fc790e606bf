/**
 * Images sized for the page: a picture (contact sheet, camera grid) shown in a notebook is
 * re-encoded at most `scale` × its display width, as a 64-colour palette PNG without alpha or
 * dithering, so an executed notebook stays small (the 650 KB Market-1501 contact sheet becomes
 * 160 KB at 720 px).
 *
 * @module
 */
import sharp from "sharp";
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
}

/** `image` (any format sharp reads) as a palette PNG at most `scale × width` pixels wide. */
export async function pagePng(
  image: Uint8Array | string,
  width = 720,
  scale = 1,
): Promise<Uint8Array> {
  const out = await sharp(image)
    .resize({ width: Math.round(width * scale), withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
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
  const png = await pagePng(image, width, options.scale ?? 1);
  const bundle: MimeBundle = { "image/png": toBase64(png), "text/plain": options.alt };
  Object.defineProperty(bundle, DISPLAY_METADATA, {
    value: { "image/png": { width } },
    enumerable: false,
  });
  return displayable(bundle, () => ({ ...bundle }));
}
