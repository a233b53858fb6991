/**
 * The WebAssembly codecs (@cornerstonejs/codec-charls, -openjpeg), instantiated once per process
 * on the first file that needs them. In Node the Emscripten loader reads its .wasm from beside
 * itself in node_modules; in the browser bundle the .wasm files lie in codecs/ beside the bundle's
 * scripts (tools/build-web.ts copies them there), so the viewer fetches nothing from elsewhere.
 */

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Loader options: quiet (OpenJPEG prints every header it reads), and the browser's .wasm location. */
export function emscriptenOptions(): EmscriptenCodecOptions {
  const quiet = { print: () => {}, printErr: () => {} };
  if (inNode) return quiet;
  return { ...quiet, locateFile: (file: string) => new URL(`codecs/${file}`, import.meta.url).href };
}

/** The wasm files the browser bundle serves, by package: tools/build-web.ts copies these. */
export const BROWSER_WASM_FILES = {
  '@cornerstonejs/codec-charls': 'charlswasm_decode.wasm',
  '@cornerstonejs/codec-openjpeg': 'openjpegwasm_decode.wasm',
};

/** A C++ exception from an Emscripten module as text (they arrive as numbers or objects). */
export function emscriptenMessage(
  e: unknown,
  module: { getExceptionMessage?: (e: unknown) => unknown },
): string {
  if (e instanceof Error) return e.message;
  try {
    const m = module.getExceptionMessage?.(e);
    if (m) return Array.isArray(m) ? m.filter(Boolean).join(': ') : String(m);
  } catch {
    // not an exception pointer
  }
  return String(e);
}

/** One frame through an Emscripten decoder object: the encoded bytes in, `read` of the result out; the object is freed. */
export function decodeWith<D extends EmscriptenDecoder<unknown>, R>(
  module: { getExceptionMessage?: (e: unknown) => unknown },
  decoder: D,
  data: Uint8Array,
  read: (decoded: D) => R,
): R {
  try {
    decoder.getEncodedBuffer(data.length).set(data);
    try {
      decoder.decode();
    } catch (e) {
      throw new Error(emscriptenMessage(e, module), { cause: e });
    }
    return read(decoder);
  } finally {
    decoder.delete();
  }
}

/** Memoised async loading: the module is instantiated once, on first use. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= load().catch((e: unknown) => {
      p = undefined; // let a later file try again
      throw e;
    });
    return p;
  };
}
