/** summary.json of `unilvseg camus`: its shape and the definitions it carries. */
import type { CamusView } from '../../data/camus/dataset.js';
import type { CamusGrid } from '../../data/camus/preprocess.js';
import type { EfSummary } from './ef.js';
import type { CamusDscSummary } from './scores.js';

export interface CamusSummary {
  settings: {
    dataPath: string;
    patientsDir: string;
    view: CamusView;
    qualities: string[] | 'all';
    resize: CamusGrid;
    model: string;
    seed: number;
    resamples: number;
  };
  patients: { listed: number; evaluated: number; failed: number; excludedByQuality: number };
  frames: number;
  dsc: CamusDscSummary;
  ef: EfSummary;
  definitions: Record<string, string>;
  outputs: Record<string, string>;
  seconds: number;
}

export const CAMUS_DEFINITIONS = {
  dice: 'pooled over the frames of a set: 2*sum(I)/(sum(U)+sum(I))',
  overall: 'every traced frame of every evaluated patient, each patient once',
  ed: 'the ED frame of Info_<view>.cfg',
  es: 'the ES frame of Info_<view>.cfg',
  middle:
    'frame N//2 of the N frames kept (NIfTI release only: the MetaImage release traces ED and ES alone)',
  large: "upstream's rule: the first frame if its traced LV is larger than the last frame's, else the last",
  small: 'the other end of the sequence',
  largeAndSmall:
    "Large and Small frames pooled (upstream's large/small/middle evaluator calls this 'overall')",
  ci90: 'upstream interval sorted[round(0.05n)]..sorted[round(0.95n)]: 5th-95th percentile, a 90% interval',
  ci95: 'sorted[round(0.025n)]..sorted[round(0.975n)]: 2.5th-97.5th percentile',
  bootstrap: 'frames resampled independently with replacement, seeded; one stream per set',
};
