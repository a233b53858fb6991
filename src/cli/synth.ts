import type { Command } from 'commander';
import { parse } from './flags.js';
import { generateDataset } from '../data/synth/dataset.js';
import { writeContactSheet } from '../data/synth/contact.js';
import { Option } from 'commander';
import { SYNTH_FRAMES, SYNTH_LOOKS, type SynthLook } from '../data/synth/params.js';

/** `unilvseg synth`: a synthetic EchoNet-format dataset (videos, tracings, per-frame masks). */
export function register(program: Command): void {
  program
    .command('synth')
    .description('write a synthetic EchoNet-Dynamic-format dataset of apical four-chamber echo videos')
    .requiredOption('--out <dir>', 'output folder (FileList.csv, VolumeTracings.csv, Videos/, Masks/)')
    .option('--videos <n>', 'number of videos', parse.int, 40)
    .option('--seed <s>', 'random seed; the same seed gives the same dataset', parse.int, 0)
    .option('--frames-min <n>', 'fewest frames per video (>= 30)', parse.int, SYNTH_FRAMES.min)
    .option('--frames-max <n>', 'most frames per video', parse.int, SYNTH_FRAMES.max)
    .option('--fps <fps>', 'frame rate of every video (default: 45-55 per video)', parse.int)
    .addOption(
      new Option(
        '--look <look>',
        'echonet: typical clips; hard: low contrast, dropout, haze, gain drift and probe motion, as poor echo has them',
      )
        .choices([...SYNTH_LOOKS])
        .default('echonet'),
    )
    .option(
      '--contact-sheet <file.png>',
      'also write a PNG of ED/mid/ES frames with the ground-truth contour',
    )
    .action(
      async (
        o: {
          out: string;
          videos: number;
          seed: number;
          framesMin: number;
          framesMax: number;
          fps?: number;
          look: SynthLook;
          contactSheet?: string;
        },
        cmd: Command,
      ) => {
        const started = Date.now();
        // Only the default upper bound follows a larger --frames-min; an explicit one is checked.
        const framesMax =
          cmd.getOptionValueSource('framesMax') === 'default'
            ? Math.max(o.framesMax, o.framesMin)
            : o.framesMax;
        const videos = await generateDataset({
          out: o.out,
          videos: o.videos,
          seed: o.seed,
          framesMin: o.framesMin,
          framesMax,
          fps: o.fps,
          look: o.look,
        });
        const frames = videos.reduce((s, v) => s + v.frames, 0);
        console.log(
          `synth: ${videos.length} videos, ${frames} frames in ${o.out} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        if (o.contactSheet) {
          await writeContactSheet(o.out, o.contactSheet);
          console.log(`synth: contact sheet ${o.contactSheet}`);
        }
      },
    );
}
