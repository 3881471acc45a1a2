// The part of the WebAssembly JS API that noise.ts uses. Node has it at runtime; @types/node 20
// does not declare it, and the DOM lib would bring in far more than this project wants.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: object);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Global {
    value: number | bigint;
  }
}
