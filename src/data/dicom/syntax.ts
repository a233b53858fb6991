/**
 * DICOM transfer syntaxes: the ones read here, which codec reads each, the names of the others
 * (every message names a syntax by name), and a tool that converts each to one read here.
 */

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/**
 * How the pixel data of a syntax is stored: native (uncompressed), or encapsulated frames read by
 * one of the codecs (src/data/dicom/codecs/).
 */
export type PixelCodec = 'native' | 'rle' | 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000';

interface SyntaxInfo {
  name: string;
  codec?: PixelCodec;
  /** A command that converts the file to a syntax read here (for a file this reader refuses or fails on). */
  convert?: string;
}

// +cg: convert to RGB wherever libjpeg takes the data for YCbCr (the default keeps gdcm's lossy
// JPEG, which says RGB but holds YCbCr, as YCbCr).
const DCMDJPEG = 'dcmtk: dcmdjpeg +cg in.dcm out.dcm';
/**
 * A video stream in DICOM is a file ffmpeg reads once taken out and given its frame rate (the
 * stream alone has none): gdcmraw writes the pixel data's fragments as one stream.
 */
const extractVideo = (ext: string): string =>
  `gdcm and ffmpeg: gdcmraw -i in.dcm -t 7fe0,0010 -o video.${ext} && ffmpeg -r FPS -i video.${ext} -c copy video.mp4, then segment-video video.mp4`;
const MPEG2 = extractVideo('m2v');
const H264 = extractVideo('h264');
// gdcm 3.0 does not know the HEVC syntaxes; dcmdump writes each fragment to a file of its own
// (in.dcm.0.raw is the offset table), which does for a stream in one fragment.
const HEVC =
  'dcmtk and ffmpeg: dcmdump +W . in.dcm && ffmpeg -r FPS -i in.dcm.1.raw -c copy video.mp4, then segment-video video.mp4';

const SYNTAXES: Record<string, SyntaxInfo> = {
  [IMPLICIT_LE]: { name: 'Implicit VR Little Endian', codec: 'native' },
  [EXPLICIT_LE]: { name: 'Explicit VR Little Endian', codec: 'native' },
  [DEFLATED_LE]: {
    name: 'Deflated Explicit VR Little Endian',
    codec: 'native',
    convert: 'dcmtk: dcmconv +te in.dcm out.dcm',
  },
  [EXPLICIT_BE]: {
    name: 'Explicit VR Big Endian',
    codec: 'native',
    convert: 'dcmtk: dcmconv +te in.dcm out.dcm',
  },
  [JPEG_BASELINE]: { name: 'JPEG Baseline (Process 1)', codec: 'jpeg', convert: DCMDJPEG },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg', convert: DCMDJPEG },
  '1.2.840.10008.1.2.4.53': {
    name: 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8)',
    codec: 'jpeg',
    convert: DCMDJPEG,
  },
  '1.2.840.10008.1.2.4.55': {
    name: 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12)',
    codec: 'jpeg',
    convert: DCMDJPEG,
  },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless (Process 14)', codec: 'jpeg-lossless', convert: DCMDJPEG },
  '1.2.840.10008.1.2.4.70': {
    name: 'JPEG Lossless, First-Order Prediction (Process 14, SV1)',
    codec: 'jpeg-lossless',
    convert: DCMDJPEG,
  },
  '1.2.840.10008.1.2.4.80': {
    name: 'JPEG-LS Lossless',
    codec: 'jpeg-ls',
    convert: 'dcmtk: dcmdjpls in.dcm out.dcm',
  },
  '1.2.840.10008.1.2.4.81': {
    name: 'JPEG-LS Lossy (Near-Lossless)',
    codec: 'jpeg-ls',
    convert: 'dcmtk: dcmdjpls in.dcm out.dcm',
  },
  // dcmtk has no JPEG 2000 decoder; gdcm does.
  '1.2.840.10008.1.2.4.90': {
    name: 'JPEG 2000 Lossless',
    codec: 'jpeg-2000',
    convert: 'gdcm: gdcmconv --raw in.dcm out.dcm',
  },
  '1.2.840.10008.1.2.4.91': {
    name: 'JPEG 2000',
    codec: 'jpeg-2000',
    convert: 'gdcm: gdcmconv --raw in.dcm out.dcm',
  },
  [RLE_LOSSLESS]: { name: 'RLE Lossless', codec: 'rle', convert: 'dcmtk: dcmdrle in.dcm out.dcm' },
  // Not read: retired JPEG processes, hierarchical JPEG, JPIP, video (extracted, ffmpeg reads it),
  // HTJ2K (OpenJPEG 2.5 decodes it, but no DICOM tool here converts it), JPEG XL.
  '1.2.840.10008.1.2.4.52': { name: 'JPEG Extended (Process 3 & 5, retired)' },
  '1.2.840.10008.1.2.4.54': { name: 'JPEG Spectral Selection (Process 7 & 9, retired)' },
  '1.2.840.10008.1.2.4.56': { name: 'JPEG Full Progression (Process 11 & 13, retired)' },
  '1.2.840.10008.1.2.4.58': { name: 'JPEG Lossless (Process 15, retired)' },
  '1.2.840.10008.1.2.4.59': { name: 'JPEG Extended, Hierarchical (Process 16 & 18, retired)' },
  '1.2.840.10008.1.2.4.60': { name: 'JPEG Extended, Hierarchical (Process 17 & 19, retired)' },
  '1.2.840.10008.1.2.4.61': { name: 'JPEG Spectral Selection, Hierarchical (Process 20 & 22, retired)' },
  '1.2.840.10008.1.2.4.62': { name: 'JPEG Spectral Selection, Hierarchical (Process 21 & 23, retired)' },
  '1.2.840.10008.1.2.4.63': { name: 'JPEG Full Progression, Hierarchical (Process 24 & 26, retired)' },
  '1.2.840.10008.1.2.4.64': { name: 'JPEG Full Progression, Hierarchical (Process 25 & 27, retired)' },
  '1.2.840.10008.1.2.4.65': { name: 'JPEG Lossless, Hierarchical (Process 28, retired)' },
  '1.2.840.10008.1.2.4.66': { name: 'JPEG Lossless, Hierarchical (Process 29, retired)' },
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component Lossless' },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component' },
  '1.2.840.10008.1.2.4.94': { name: 'JPIP Referenced' },
  '1.2.840.10008.1.2.4.95': { name: 'JPIP Referenced Deflate' },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level', convert: MPEG2 },
  '1.2.840.10008.1.2.4.100.1': { name: 'Fragmentable MPEG2 Main Profile / Main Level', convert: MPEG2 },
  '1.2.840.10008.1.2.4.101': { name: 'MPEG2 Main Profile / High Level', convert: MPEG2 },
  '1.2.840.10008.1.2.4.101.1': { name: 'Fragmentable MPEG2 Main Profile / High Level', convert: MPEG2 },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', convert: H264 },
  '1.2.840.10008.1.2.4.102.1': {
    name: 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.103': {
    name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.103.1': {
    name: 'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.104': { name: 'MPEG-4 AVC/H.264 High Profile For 2D Video', convert: H264 },
  '1.2.840.10008.1.2.4.104.1': {
    name: 'Fragmentable MPEG-4 AVC/H.264 High Profile For 2D Video',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.105': { name: 'MPEG-4 AVC/H.264 High Profile For 3D Video', convert: H264 },
  '1.2.840.10008.1.2.4.105.1': {
    name: 'Fragmentable MPEG-4 AVC/H.264 High Profile For 3D Video',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.106': { name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', convert: H264 },
  '1.2.840.10008.1.2.4.106.1': {
    name: 'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
    convert: H264,
  },
  '1.2.840.10008.1.2.4.107': { name: 'HEVC/H.265 Main Profile / Level 5.1', convert: HEVC },
  '1.2.840.10008.1.2.4.108': { name: 'HEVC/H.265 Main 10 Profile / Level 5.1', convert: HEVC },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless' },
  '1.2.840.10008.1.2.4.111': { name: 'JPEG XL JPEG Recompression' },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Lossless' },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options Lossless' },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000' },
  '1.2.840.10008.1.2.4.204': { name: 'JPIP HTJ2K Referenced' },
  '1.2.840.10008.1.2.4.205': { name: 'JPIP HTJ2K Referenced Deflate' },
  '1.2.840.10008.1.2.6.1': { name: 'RFC 2557 MIME encapsulation (retired)' },
  '1.2.840.10008.1.2.6.2': { name: 'XML Encoding (retired)' },
  '1.2.840.10008.1.2.7.1': { name: 'SMPTE ST 2110-20 Uncompressed Progressive Active Video' },
  '1.2.840.10008.1.2.7.2': { name: 'SMPTE ST 2110-20 Uncompressed Interlaced Active Video' },
  '1.2.840.10008.1.2.7.3': { name: 'SMPTE ST 2110-30 PCM Digital Audio' },
};

/** The syntax's name, e.g. "RLE Lossless"; "unknown transfer syntax" for a UID not in DICOM's list. */
export function transferSyntaxName(uid: string): string {
  return SYNTAXES[uid]?.name ?? 'unknown transfer syntax';
}

/** `uid (name)`, the way messages name a syntax. */
export const syntaxLabel = (uid: string): string => `${uid || '(none)'} (${transferSyntaxName(uid)})`;

/** The codec that reads a syntax's pixel data; undefined for a syntax not read here. */
export const pixelCodec = (uid: string): PixelCodec | undefined => SYNTAXES[uid]?.codec;

/**
 * "; convert it first (dcmtk: dcmdrle in.dcm out.dcm)" where a tool that converts the syntax is
 * known; `fps` (the file's frame rate, when it has one) goes into the video syntaxes' command.
 */
export function conversionHint(uid: string, fps?: number): string {
  const convert = SYNTAXES[uid]?.convert;
  if (!convert) return '';
  return `; convert it first (${fps ? convert.replace('FPS', String(Math.round(fps * 1000) / 1000)) : convert})`;
}

/** The syntaxes read (those with a codec in the table above), in short, for messages. */
export const SUPPORTED_SYNTAXES =
  'uncompressed (implicit or explicit VR little endian, deflated, explicit VR big endian), RLE Lossless, ' +
  'JPEG (baseline, extended 8-bit, spectral selection, progressive, lossless), JPEG-LS, JPEG 2000';

/** SOP classes of ultrasound images (accepted when a file lacks the Modality attribute). */
export const ULTRASOUND_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame Image Storage
  '1.2.840.10008.5.1.4.1.1.3', // the retired one
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image Storage
  '1.2.840.10008.5.1.4.1.1.6', // the retired one
]);
