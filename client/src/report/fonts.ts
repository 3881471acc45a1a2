// The one font of every figure: DejaVu Sans, shipped in client/assets/fonts (see its README and
// LICENSE). Two consumers must see exactly this font, whatever the machine has installed:
//  - Vega's layout (legend, title and axis sizes): in Node it has no canvas to measure text and
//    estimates 0.8 em per character (legends then get a third more room than they need); we give it
//    the font's real advance widths, read from the TTF by opentype.js, through the hook Vega keeps for
//    this (textMetrics.width, as vl-convert does).
//  - The PNG rasteriser (sharp → librsvg → fontconfig): a private fontconfig file that lists only
//    this folder, set through FONTCONFIG_FILE before fontconfig first initialises.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FONT_FAMILY = 'DejaVu Sans';
const dir = (name: string) => fileURLToPath(new URL(`../../assets/fonts/${name}`, import.meta.url));
const FONTCONFIG_FILE = dir('fonts.conf');

interface Glyph {
  advanceWidth?: number;
}
interface Face {
  unitsPerEm: number;
  charToGlyph(c: string): Glyph;
  getKerningValue(left: Glyph, right: Glyph): number;
}

/** Measures text set in the shipped font: width in px of `text` at `fontSize` (bold for weights ≥ 600). */
export type TextWidth = (text: string, fontSize: number, fontWeight?: string | number) => number;

let metrics: Promise<TextWidth> | undefined;

/**
 * The shipped font's text measure: advance widths and pair kerning, glyph by glyph (opentype.js's
 * full shaping does not support every lookup DejaVu has, and Latin labels need none). Loaded on
 * first use: CLI commands that draw no figure do not pay for it.
 */
export function shippedFontMetrics(): Promise<TextWidth> {
  return (metrics ??= (async () => {
    const { default: opentype } = await import('opentype.js');
    const load = (file: string): Face => {
      const b = readFileSync(dir(file));
      // lowMemory: a glyph is read when first measured instead of all of the face's thousands up front
      // (a seventh of the parse's CPU, 0.2 s less per command that draws); same widths and kerning.
      return opentype.parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), { lowMemory: true }) as Face;
    };
    const regular = load('DejaVuSans.ttf');
    const bold = load('DejaVuSans-Bold.ttf');
    return (text, fontSize, fontWeight) => {
      const w = typeof fontWeight === 'number' ? fontWeight : fontWeight === 'bold' || fontWeight === 'bolder' ? 700 : Number(fontWeight) || 400;
      const face = w >= 600 ? bold : regular;
      let units = 0;
      let prev: Glyph | undefined;
      for (const c of text) {
        const g = face.charToGlyph(c);
        units += (g.advanceWidth ?? 0) + (prev ? face.getKerningValue(prev, g) : 0);
        prev = g;
      }
      return (units * fontSize) / face.unitsPerEm;
    };
  })());
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}
/** The part of Vega's module this file touches. */
export interface VegaTextMetrics {
  textMetrics: { width: (item: TextItem, text: unknown) => number };
}

/** Points Vega's text measurement at the shipped font (Vega reads textMetrics.width on each layout). */
export async function useShippedFontMetrics(vega: VegaTextMetrics): Promise<void> {
  const width = await shippedFontMetrics();
  vega.textMetrics.width = (item, text) => width(text == null ? '' : String(text).trim(), item.fontSize ?? 11, item.fontWeight);
}

/** Makes librsvg (through sharp) find this font and no other: call before the first SVG with text is rasterised. */
export function useShippedFontForRasterising(): void {
  process.env.FONTCONFIG_FILE = FONTCONFIG_FILE;
}
