import type { Command } from 'commander';
import { parse } from './flags.js';
import { generateDataset } from '../data/synth/dataset.js';
import { writeContactSheet } from '../data/synth/contact.js';
import { Option } from 'commander';
import { join } from 'node:path';
import { writeSyntheticCamus } from '../data/camus/synthetic-copy.js';
import { SYNTH_FRAMES, SYNTH_LOOKS, type SynthLook } from '../data/synth/params.js';

async function copyToCamus(from: string, split: string, out: string, started: number): Promise<void> {
  const copied = await writeSyntheticCamus({ from, split, out });
  const byQuality = (q: string) => copied.filter((c) => c.quality === q).length;
  console.log(
    `synth: CAMUS-format copy of ${copied.length} videos of ${from} (split ${split}) in ${join(out, 'database_nifti')}: ` +
      `${copied.filter((c) => c.direction === 'ED->ES').length} ED->ES, ${copied.filter((c) => c.direction === 'ES->ED').length} ES->ED; ` +
      `quality Good ${byQuality('Good')}, Medium ${byQuality('Medium')}, Poor ${byQuality('Poor')} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}

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
    .addOption(
      new Option(
        '--format <format>',
        'echonet: EchoNet-Dynamic layout; camus: a CAMUS NIfTI-release copy (database_nifti/) of --from, or of a dataset generated into <out>/echonet',
      )
        .choices(['echonet', 'camus'])
        .default('echonet'),
    )
    .option(
      '--from <dir>',
      '--format camus: the synthetic dataset to copy (synth output: FileList.csv, Videos/, Masks/)',
    )
    .option('--split <name>', '--format camus: the split to copy (train, val, test, all)', 'all')
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
          format: 'echonet' | 'camus';
          from?: string;
          split: string;
          contactSheet?: string;
        },
        cmd: Command,
      ) => {
        const started = Date.now();
        if (o.format === 'camus' && o.from) {
          await copyToCamus(o.from, o.split, o.out, started);
          return;
        }
        const echonetDir = o.format === 'camus' ? join(o.out, 'echonet') : o.out;
        // Only the default upper bound follows a larger --frames-min; an explicit one is checked.
        const framesMax =
          cmd.getOptionValueSource('framesMax') === 'default'
            ? Math.max(o.framesMax, o.framesMin)
            : o.framesMax;
        const videos = await generateDataset({
          out: echonetDir,
          videos: o.videos,
          seed: o.seed,
          framesMin: o.framesMin,
          framesMax,
          fps: o.fps,
          look: o.look,
        });
        const frames = videos.reduce((s, v) => s + v.frames, 0);
        console.log(
          `synth: ${videos.length} videos, ${frames} frames in ${echonetDir} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        if (o.format === 'camus') await copyToCamus(echonetDir, o.split, o.out, started);
        if (o.contactSheet) {
          await writeContactSheet(echonetDir, o.contactSheet);
          console.log(`synth: contact sheet ${o.contactSheet}`);
        }
      },
    );
}
