/**
 * Draws a scene (background, person, occluder) as SVG. The same geometry is
 * painted with visible colours or with thermal gray levels, so an RGB image
 * and an IR image of one shot differ only in materials, as in RegDB's
 * simultaneous capture.
 *
 * Coordinates are canvas units: the canvas is 128 units high and
 * `128 · width / height` wide, whatever the output pixel size.
 *
 * @module
 */
import { clamp01, css, luma, type Rgb, shade } from "./colors.ts";
import type { Identity } from "./identity.ts";
import type { CameraModel, PlacedShape, Shot } from "./scene.ts";

/** The paintable parts of a person. */
type Part =
  | "skin"
  | "hair"
  | "upper"
  | "pattern"
  | "lower"
  | "shoe"
  | "hat"
  | "bag"
  | "strap"
  | "glasses";

/** Colour of each part, for one modality. */
type Paint = Record<Part, Rgb>;

/** Visible colours of a person for one shot (identity colours + per-image jitter). */
function rgbPaint(id: Identity, shot: Shot): Paint {
  const a = id.appearance;
  const j = shot.shadeJitter;
  const bagDark: Rgb = [a.bag[0] * 0.6, a.bag[1] * 0.6, a.bag[2] * 0.6];
  return {
    skin: a.skin,
    hair: a.hair,
    upper: shade(a.upper, j),
    pattern: shade(a.patternColor, j),
    lower: shade(a.lower, j),
    shoe: a.shoe,
    hat: shade(a.hat, j),
    bag: shade(a.bag, j),
    strap: bagDark,
    glasses: [0.05, 0.05, 0.06],
  };
}

/**
 * Thermal ("white-hot") levels: radiance = emissivity × temperature. Skin is
 * hottest, glasses are opaque to long-wave IR (dark), garments carry their own
 * identity-level level unrelated to their visible colour, patterns show at low
 * contrast, bags sit at ambient temperature.
 */
function irPaint(id: Identity): Paint {
  const t = id.appearance.thermal;
  const g = (v: number): Rgb => [clamp01(v), clamp01(v), clamp01(v)];
  const patternSign = luma(id.appearance.patternColor) > luma(id.appearance.upper) ? 1 : -1;
  return {
    skin: g(t.body),
    hair: g(t.hair),
    upper: g(t.upper),
    pattern: g(t.upper + patternSign * (t.pattern ?? 0.12)),
    lower: g(t.lower),
    shoe: g(t.shoe ?? 0.4),
    hat: g(t.hat ?? 0.45),
    bag: g(t.bag),
    strap: g(t.bag * 0.9),
    glasses: g(0.1),
  };
}

const f = (x: number) => (Math.round(x * 100) / 100).toString();

function rect(x: number, y: number, w: number, h: number, fill: Rgb, extra = ""): string {
  return `<rect x="${f(x)}" y="${f(y)}" width="${f(Math.max(0, w))}" height="${
    f(Math.max(0, h))
  }" fill="${css(fill)}"${extra}/>`;
}

function ellipse(cx: number, cy: number, rx: number, ry: number, fill: Rgb): string {
  return `<ellipse cx="${f(cx)}" cy="${f(cy)}" rx="${f(rx)}" ry="${f(ry)}" fill="${css(fill)}"/>`;
}

function poly(points: [number, number][], fill: Rgb): string {
  return `<polygon points="${points.map(([x, y]) => `${f(x)},${f(y)}`).join(" ")}" fill="${
    css(fill)
  }"/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, width: number, stroke: Rgb): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${
    css(stroke)
  }" stroke-width="${f(width)}" stroke-linecap="round"/>`;
}

function shapeSvg(s: PlacedShape, tint = 1): string {
  const c: Rgb = [s.color[0] * tint, s.color[1] * tint, s.color[2] * tint];
  return s.ellipse
    ? ellipse(s.x + s.w / 2, s.y + s.h / 2, s.w / 2, s.h / 2, c)
    : rect(s.x, s.y, s.w, s.h, c);
}

function backgroundSvg(camera: CameraModel, shot: Shot, width: number): string {
  const bg = camera.background;
  const t = shot.backgroundTint;
  const top: Rgb = bg.base.map((v) => v * t * (1 + bg.gradient / 2)) as unknown as Rgb;
  const bottom: Rgb = bg.base.map((v) => v * t * (1 - bg.gradient / 2)) as unknown as Rgb;
  const parts = [
    `<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${
      css(top)
    }"/><stop offset="1" stop-color="${css(bottom)}"/></linearGradient></defs>`,
    `<rect x="0" y="0" width="${f(width)}" height="128" fill="url(#bg)"/>`,
  ];
  for (const s of bg.fixed) parts.push(shapeSvg({ ...s, x: (s.x / 64) * width }, t));
  for (const s of shot.clutter) parts.push(shapeSvg(s, t));
  if (bg.floor) parts.push(rect(0, 102, width, 26, bg.floor.map((v) => v * t) as unknown as Rgb));
  return parts.join("");
}

/** SVG elements of the person, centred on the canvas. */
function personSvg(
  id: Identity,
  shot: Shot,
  camera: CameraModel,
  paint: Paint,
  width: number,
): string {
  const at = id.attributes;
  const ap = id.appearance;
  const u = ap.heightScale * shot.scale * camera.personScale;
  const bodyH = 112 * u;
  const cx = width / 2 + shot.dx;
  const feetY = 123 + shot.dy - (1 - camera.personScale) * 20;
  const topY = feetY - bodyH;
  const headR = 7 * u * ap.headScale;
  const headCy = topY + headR + (at.hat ? 2 * u : 0);
  const shoulderY = headCy + headR + 2.2 * u;
  const legLen = bodyH * ap.legRatio;
  const hipY = feetY - legLen;
  const side = shot.view === "side";
  const back = shot.view === "back";
  const torsoW = 20 * u * ap.widthScale * (side ? 0.6 : 1);
  const hipW = torsoW * (at.female ? 0.98 : 0.88);
  const waistY = shoulderY + (hipY - shoulderY) * 0.7;
  const legW = 8 * u * ap.widthScale * (side ? 0.95 : 1);
  const swing = Math.sin(shot.phase * 2 * Math.PI);
  const kneeY = hipY + legLen * 0.48;
  const shoeH = (at.boots ? 9 : 3.5) * u;
  // In back view the person's left/right are mirrored on screen; side view puts bags on the near side.
  const sideSign = back ? -ap.bagSide : ap.bagSide;
  const out: string[] = [];

  const longHair = () => {
    if (!at.hairLong) return;
    const w = headR * 2.3;
    out.push(
      rect(
        cx - w / 2 + (side ? -shot.facing * headR * 0.4 : 0),
        headCy - headR * 0.6,
        w,
        shoulderY + 11 * u - (headCy - headR * 0.6),
        paint.hair,
        ` rx="${f(headR * 0.8)}"`,
      ),
    );
  };

  const lowerBody = () => {
    const hemY = at.skirt
      ? (at.lowerLong ? feetY - shoeH - 3 * u : kneeY)
      : at.lowerLong
      ? feetY - shoeH + 0.5
      : kneeY;
    // Legs: in front/back view two columns spread by the walking phase; in side view a stride.
    const legs: [number, number, number, number][] = []; // hipX, footX, topY, width
    if (side) {
      const stride = swing * 7 * u;
      legs.push([cx, cx + stride, hipY, legW], [cx, cx - stride, hipY, legW]);
    } else {
      const gap = (1 + Math.abs(swing) * 2.5) * u;
      legs.push([cx - gap / 2 - legW / 2, cx - gap / 2 - legW / 2 - swing * u, hipY, legW]);
      legs.push([cx + gap / 2 + legW / 2, cx + gap / 2 + legW / 2 + swing * u, hipY, legW]);
    }
    for (const [hx, fx, , w] of legs) {
      // Skin leg, then the garment over its covered length.
      out.push(line(hx, hipY, fx, feetY - shoeH, w, paint.skin));
      if (!at.skirt) {
        const k = (hemY - hipY) / (feetY - shoeH - hipY);
        out.push(line(hx, hipY - 2 * u, hx + (fx - hx) * k, hemY, w + 0.6 * u, paint.lower));
      }
    }
    for (const [, fx, , w] of legs) {
      const dir = side ? shot.facing : 0;
      out.push(
        rect(
          fx - w / 2 - 0.8 * u + dir * 1.2 * u,
          feetY - shoeH,
          w + 1.6 * u,
          shoeH,
          paint.shoe,
          ` rx="${f(1.2 * u)}"`,
        ),
      );
    }
    if (at.skirt) {
      const topW = hipW * 0.95;
      const botW = hipW * (at.lowerLong ? 1.5 : 1.35) * (side ? 0.8 : 1);
      out.push(
        poly([[cx - topW / 2, waistY], [cx + topW / 2, waistY], [cx + botW / 2, hemY], [
          cx - botW / 2,
          hemY,
        ]], paint.lower),
      );
    } else {
      out.push(rect(cx - hipW / 2, waistY, hipW, hipY - waistY + 2 * u, paint.lower));
    }
  };

  const torsoPoints: [number, number][] = [
    [cx - torsoW / 2, shoulderY],
    [cx + torsoW / 2, shoulderY],
    [cx + hipW / 2, waistY + 3 * u],
    [cx - hipW / 2, waistY + 3 * u],
  ];
  const torso = () => {
    out.push(poly(torsoPoints, paint.upper));
    // Shoulders are round.
    out.push(ellipse(cx, shoulderY + 1.5 * u, torsoW / 2, 3 * u, paint.upper));
    const pat = at.upperPattern;
    if (pat === "plain" || (pat === "logo" && shot.view !== "front")) return;
    const clip = `<clipPath id="torso"><polygon points="${
      torsoPoints.map(([x, y]) => `${f(x)},${f(y)}`).join(" ")
    }"/></clipPath>`;
    const inner: string[] = [];
    const period = ap.patternPeriod * u;
    const tTop = shoulderY, tBot = waistY + 3 * u;
    if (pat === "logo") {
      const ly = tTop + (tBot - tTop) * ap.patternOffset;
      inner.push(rect(cx - torsoW * 0.22, ly, torsoW * 0.44, 6 * u, paint.pattern));
    }
    if (pat === "hstripes" || pat === "check") {
      for (let y = tTop + period * ap.patternOffset; y < tBot; y += period) {
        inner.push(
          rect(
            cx - torsoW,
            y,
            torsoW * 2,
            period * 0.45,
            paint.pattern,
            pat === "check" ? ` opacity="0.7"` : "",
          ),
        );
      }
    }
    if (pat === "vstripes" || pat === "check") {
      for (let x = cx - torsoW / 2 + period * ap.patternOffset; x < cx + torsoW / 2; x += period) {
        inner.push(
          rect(
            x,
            tTop,
            period * 0.45,
            tBot - tTop,
            paint.pattern,
            pat === "check" ? ` opacity="0.7"` : "",
          ),
        );
      }
    }
    out.push(`<defs>${clip}</defs><g clip-path="url(#torso)">${inner.join("")}</g>`);
  };

  const handY = hipY + 5 * u;
  const armW = 4.8 * u;
  const arms = () => {
    const shoulders = side ? [cx] : [cx - torsoW / 2 - armW * 0.3, cx + torsoW / 2 + armW * 0.3];
    shoulders.forEach((sx, i) => {
      const dirX = side
        ? shot.facing * swing * 9 * u
        : (i === 0 ? -1 : 1) * (1.5 * u + Math.abs(swing) * u);
      const sy = shoulderY + 2 * u;
      const hx = sx + dirX;
      const sleeve = at.longSleeves ? 1 : 0.38;
      out.push(line(sx, sy, hx, handY, armW, paint.skin));
      out.push(
        line(
          sx,
          sy,
          sx + (hx - sx) * sleeve,
          sy + (handY - sy) * sleeve,
          armW + 0.4 * u,
          paint.upper,
        ),
      );
      out.push(ellipse(hx, handY + 1.5 * u, armW * 0.5, armW * 0.6, paint.skin));
    });
  };

  const handX = (s: number) =>
    side ? cx + shot.facing * swing * 9 * u : cx + s * (torsoW / 2 + armW * 0.3 + 2 * u);
  const handbag = () => {
    if (!at.handbag) return;
    const x = handX(sideSign);
    out.push(rect(x - 3.5 * u, handY + 2 * u, 7 * u, 6.5 * u, paint.bag, ` rx="${f(u)}"`));
  };
  const shoulderBag = () => {
    if (!at.shoulderBag) return;
    const bx = side ? cx + shot.facing * -2 * u : cx + sideSign * (hipW / 2 + 1.5 * u);
    if (!side) {
      out.push(
        line(cx - sideSign * torsoW * 0.35, shoulderY + u, bx, hipY - 3 * u, 1.4 * u, paint.strap),
      );
    }
    out.push(rect(bx - 4 * u, hipY - 5 * u, 8 * u, 7 * u, paint.bag, ` rx="${f(u)}"`));
  };
  const backpack = () => {
    if (!at.backpack) return;
    if (back) {
      out.push(
        rect(
          cx - torsoW * 0.38,
          shoulderY + 3 * u,
          torsoW * 0.76,
          (waistY - shoulderY) * 0.85,
          paint.bag,
          ` rx="${f(2 * u)}"`,
        ),
      );
    } else if (side) {
      const x = cx - shot.facing * (torsoW / 2 + 4.5 * u);
      out.push(
        rect(
          x - 4 * u,
          shoulderY + 2 * u,
          8 * u,
          (waistY - shoulderY) * 0.8,
          paint.bag,
          ` rx="${f(2 * u)}"`,
        ),
      );
    } else {
      for (const s of [-1, 1]) {
        out.push(
          line(
            cx + s * torsoW * 0.3,
            shoulderY,
            cx + s * torsoW * 0.26,
            waistY - 2 * u,
            1.6 * u,
            paint.strap,
          ),
        );
      }
    }
  };

  const head = () => {
    out.push(rect(cx - 2 * u, headCy + headR * 0.6, 4 * u, shoulderY - headCy, paint.skin));
    out.push(
      ellipse(
        cx + (side ? shot.facing * 0.8 * u : 0),
        headCy,
        headR * (side ? 0.92 : 0.86),
        headR,
        paint.skin,
      ),
    );
    // Hair: a cap seen from the front, the whole head seen from behind.
    if (back) {
      out.push(ellipse(cx, headCy - headR * 0.05, headR * 0.9, headR * 1.02, paint.hair));
    } else if (side) {
      out.push(
        ellipse(
          cx - shot.facing * headR * 0.25,
          headCy - headR * 0.25,
          headR * 0.85,
          headR * 0.8,
          paint.hair,
        ),
      );
    } else {
      out.push(ellipse(cx, headCy - headR * 0.5, headR * 0.9, headR * 0.55, paint.hair));
    }
    if (at.glasses && !back) {
      const gy = headCy - headR * 0.05;
      if (side) {
        out.push(
          rect(
            cx + shot.facing * headR * 0.2 - (shot.facing < 0 ? headR * 0.7 : 0),
            gy,
            headR * 0.7,
            1.8 * u,
            paint.glasses,
          ),
        );
      } else out.push(rect(cx - headR * 0.75, gy, headR * 1.5, 1.8 * u, paint.glasses));
    }
  };
  const hat = () => {
    if (at.hat) {
      out.push(
        rect(
          cx - headR * 0.95,
          headCy - headR * 1.35,
          headR * 1.9,
          headR * 0.9,
          paint.hat,
          ` rx="${f(headR * 0.4)}"`,
        ),
      );
      const brimX = side ? cx - headR * 0.6 + shot.facing * headR * 0.6 : cx - headR * 1.2;
      out.push(rect(brimX, headCy - headR * 0.55, headR * (side ? 1.8 : 2.4), 1.4 * u, paint.hat));
    }
  };

  if (back) {
    lowerBody();
    torso();
    arms();
    handbag();
    shoulderBag();
    backpack();
    head();
    longHair();
    hat();
  } else if (side) {
    backpack();
    longHair();
    lowerBody();
    torso();
    shoulderBag();
    arms();
    handbag();
    head();
    hat();
  } else {
    longHair();
    lowerBody();
    torso();
    backpack();
    shoulderBag();
    arms();
    handbag();
    head();
    hat();
  }
  const body = out.join("");
  if (!shot.flip) return body;
  return `<g transform="translate(${f(width)},0) scale(-1,1)">${body}</g>`;
}

/**
 * The full SVG document of one shot at `widthPx × heightPx` pixels. For an IR
 * camera the person is painted with thermal levels and the background is
 * expected to be gray already.
 */
export function sceneSvg(
  id: Identity,
  camera: CameraModel,
  shot: Shot,
  widthPx: number,
  heightPx: number,
): string {
  const width = (128 * widthPx) / heightPx;
  const paint = camera.modality === "ir" ? irPaint(id) : rgbPaint(id, shot);
  const occ = shot.occluder ? shapeSvg(shot.occluder, shot.backgroundTint) : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${
    f(width)
  } 128">` +
    backgroundSvg(camera, shot, width) + personSvg(id, shot, camera, paint, width) + occ + `</svg>`;
}
