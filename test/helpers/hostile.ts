// Hostile request bodies for the server tests and scripts/fuzz-server.ts: images whose header lies
// about their size, images of one format sent as another.
import sharp from 'sharp';

/** A progressive JPEG of ~1 KB whose header declares `width`×`height` (a decompression bomb). */
export async function jpegBomb(width = 16000, height = 16000): Promise<Buffer> {
  const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 120, g: 30, b: 200 } } })
    .jpeg({ progressive: true, quality: 50 })
    .toBuffer();
  const bomb = Buffer.from(small);
  // SOF2 (progressive): FF C2, length (2), precision (1), height (2), width (2).
  for (let i = 0; i < bomb.length - 8; i++) {
    if (bomb[i] === 0xff && bomb[i + 1] === 0xc2) {
      bomb.writeUInt16BE(height, i + 5);
      bomb.writeUInt16BE(width, i + 7);
      return bomb;
    }
  }
  throw new Error('no SOF2 marker in the progressive JPEG');
}

/** The same small picture in formats the server does not accept as PNG or JPEG. */
export async function otherFormats(): Promise<Record<string, Buffer>> {
  const img = () => sharp({ create: { width: 28, height: 28, channels: 3, background: { r: 200, g: 200, b: 200 } } });
  return {
    gif: await img().gif().toBuffer(),
    tiff: await img().tiff().toBuffer(),
    webp: await img().webp().toBuffer(),
    avif: await img().avif({ effort: 0 }).toBuffer(),
    svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" fill="grey"/></svg>'),
    jpeg: await img().jpeg().toBuffer(),
  };
}
