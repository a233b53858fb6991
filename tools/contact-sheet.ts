/**
 * Contact sheet of an existing synthetic dataset (the same picture as `synth --contact-sheet`):
 *   node dist/tools/contact-sheet.js DIR OUT.png [VIDEOS] [ZOOM]
 */
import { writeContactSheet } from '../src/data/synth/contact.js';

const [dir, out, videos = '8', zoom = '2'] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: contact-sheet DIR OUT.png [VIDEOS] [ZOOM]');
  process.exit(2);
}
writeContactSheet(dir, out, { videos: Number(videos), zoom: Number(zoom) }).catch((e: unknown) => {
  console.error(`contact-sheet: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
