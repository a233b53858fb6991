// A minimal AVI (RIFF) writer for the MJPEG decoder's tests: the layouts real writers produce that
// ffmpeg's own output does not (Huffman-table-less frames, 'rec ' lists, an audio stream first,
// empty "repeat" chunks), byte by byte as the AVI format lays them out.

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

function chunk(id: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'latin1'), u32(data.length), data, Buffer.alloc(data.length & 1)]);
}

const list = (type: string, children: Buffer[]) =>
  chunk('LIST', Buffer.concat([Buffer.from(type, 'latin1'), ...children]));

export interface AviSpec {
  /** One JPEG per frame; null writes an empty chunk (a writer's "repeat the previous frame"). */
  frames: (Uint8Array | null)[];
  width: number;
  height: number;
  /** Frame rate as the stream header's rate / scale. */
  rate: number;
  scale: number;
  /** Codec tag in the stream header and the bitmap header. */
  codec?: string;
  /** An audio stream (index 0) before the video stream, with a chunk after every frame. */
  audioFirst?: boolean;
  /** Each frame (and its audio) inside a 'LIST rec ' group. */
  recLists?: boolean;
}

export function writeAvi(o: AviSpec): Buffer {
  const codec = o.codec ?? 'MJPG';
  const strh = (type: string, handler: string, scale: number, rate: number) => {
    const b = Buffer.alloc(56);
    b.write(type, 0, 'latin1');
    b.write(handler, 4, 'latin1');
    b.writeUInt32LE(scale, 20);
    b.writeUInt32LE(rate, 24);
    b.writeUInt32LE(o.frames.length, 32);
    return chunk('strh', b);
  };
  const bitmap = Buffer.alloc(40);
  bitmap.writeUInt32LE(40, 0);
  bitmap.writeInt32LE(o.width, 4);
  bitmap.writeInt32LE(o.height, 8);
  bitmap.writeUInt16LE(1, 12);
  bitmap.writeUInt16LE(24, 14);
  bitmap.write(codec, 16, 'latin1');
  const avih = Buffer.alloc(56);
  avih.writeUInt32LE(Math.round((1e6 * o.scale) / o.rate), 0);
  avih.writeUInt32LE(o.frames.length, 16);
  avih.writeUInt32LE(o.audioFirst ? 2 : 1, 24);
  avih.writeUInt32LE(o.width, 32);
  avih.writeUInt32LE(o.height, 36);
  const video = list('strl', [strh('vids', codec, o.scale, o.rate), chunk('strf', bitmap)]);
  const audio = list('strl', [strh('auds', '\0\0\0\0', 1, 8000), chunk('strf', Buffer.alloc(18))]);
  const hdrl = list('hdrl', [chunk('avih', avih), ...(o.audioFirst ? [audio, video] : [video])]);
  const tag = o.audioFirst ? '01dc' : '00dc';
  const movi = o.frames.map((f) => {
    const parts = [
      chunk(tag, Buffer.from(f ?? new Uint8Array(0))),
      ...(o.audioFirst ? [chunk('00wb', Buffer.alloc(160))] : []),
    ];
    return o.recLists ? list('rec ', parts) : Buffer.concat(parts);
  });
  const body = Buffer.concat([Buffer.from('AVI ', 'latin1'), hdrl, list('movi', movi)]);
  return chunk('RIFF', body);
}
