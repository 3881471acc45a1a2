// The part of opentype.js (which ships no types; its Node entry is CommonJS) that fonts.ts uses.
declare module 'opentype.js' {
  const opentype: { parse(buffer: ArrayBuffer, options?: { lowMemory?: boolean }): unknown };
  export default opentype;
}
