// Types of the codec packages that ship none: only what codecs/*.ts use.

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** Number of components of the last decoded frame. */
    numComp: number;
    /** Sample precision in bits of the last decoded frame. */
    precision: number | undefined;
    /** Columns and rows of the last decoded frame. */
    xDim: number;
    yDim: number;
    /** Decodes the JPEG at buffer[offset, offset + length): samples pixel-interleaved, 8- or 16-bit. */
    decode(
      buffer: ArrayBuffer,
      offset?: number,
      length?: number,
      numBytes?: number,
    ): Uint8Array | Uint16Array;
  }
}

/** An Emscripten module of @cornerstonejs/codec-*: a factory resolving to the instantiated module. */
interface EmscriptenCodecOptions {
  locateFile?: (file: string, scriptDirectory: string) => string;
  /** Where the module's stdout and stderr go (OpenJPEG logs every header it reads). */
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

interface EmscriptenDecoder<FrameInfo> {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): ArrayBufferView;
  delete(): void;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  interface JpegLSFrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
  }
  interface JpegLSDecoder extends EmscriptenDecoder<JpegLSFrameInfo> {
    /** 0: planes one after another; 1: by line; 2: by sample. */
    getInterleaveMode(): number;
    getNearLossless(): number;
  }
  export interface CharLSModule {
    JpegLSDecoder: new () => JpegLSDecoder;
    getExceptionMessage?: (e: unknown) => string;
  }
  const factory: (options?: EmscriptenCodecOptions) => Promise<CharLSModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  interface J2KFrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
  }
  type J2KDecoder = EmscriptenDecoder<J2KFrameInfo>;
  export interface OpenJpegModule {
    J2KDecoder: new () => J2KDecoder;
    getExceptionMessage?: (e: unknown) => string;
  }
  const factory: (options?: EmscriptenCodecOptions) => Promise<OpenJpegModule>;
  export default factory;
}
