// Writing the overlay video (Node: ffmpeg); the drawing itself is in overlay.ts.
import { encodeVideo } from '../data/video.js';
import { overlayFrames, type OverlayOptions, type RgbVideo } from './overlay.js';

/** Draw the mask contours on every frame and write an H.264 MP4 at the video's frame rate. */
export async function writeOverlayVideo(
  path: string,
  video: RgbVideo,
  masks: Uint8Array,
  opts: OverlayOptions = {},
): Promise<void> {
  const drawn = overlayFrames(video.frames, masks, video.count, video.height, video.width, opts);
  // encodeVideo writes a temporary file and renames it, so the MP4 appears atomically.
  await encodeVideo(path, drawn, { width: video.width, height: video.height, fps: video.fps, codec: 'h264' });
}
