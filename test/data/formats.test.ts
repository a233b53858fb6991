import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEchoNet, type EchoVideo } from '../../src/data/echonet.js';
import { BatchLoader, type WeakBatch } from '../../src/data/loader.js';
import { tracingToMask } from '../../src/data/polygon.js';
import { makeEchoNetMini } from '../fixtures/echonet-mini/make.js';
import { synthDataset } from '../helpers/fixtures.js';

const area = (rows: number[][]) => tracingToMask(rows).reduce((a, b) => a + b, 0);

/** What the rest of the pipeline sees of a dataset, independent of its content. */
async function view(root: string) {
  const videos: EchoVideo[] = openEchoNet(root, 'all');
  const loader = new BatchLoader({
    videos,
    phase: 'weak',
    frames: 16,
    period: 1,
    batchSize: 2,
    train: true,
    numWorkers: 0,
    seed: 1,
  });
  const first = (await loader.epoch(0).next()).value as WeakBatch;
  await loader.close();
  return {
    fileListHeader: readFileSync(join(root, 'FileList.csv'), 'utf8').split('\n')[0],
    tracingsHeader: readFileSync(join(root, 'VolumeTracings.csv'), 'utf8').split('\n')[0],
    splits: [...new Set(videos.map((v) => v.row.split))].sort(),
    names: videos.every((v) => /^0X[0-9A-F]{16}\.avi$/.test(v.fileName)),
    rowsPerTrace: [...new Set(videos.flatMap((v) => [v.esRows.length, v.edRows.length]))],
    esBeforeEd: videos.every((v) => area(v.edRows) > area(v.esRows)),
    frameSize: [...new Set(videos.map((v) => `${v.row.frameWidth}x${v.row.frameHeight}`))],
    batch: {
      frames: first.frames.length,
      mask: first.trace_mask.length,
      index: first.trace_index.length,
      items: first.items.map((i) => i.which),
    },
  };
}

describe('data: the synthetic dataset and a hand-written EchoNet-style fixture read identically', function () {
  this.timeout(180_000);

  it('same CSV headers, names, splits, 21 rows per traced frame, ED larger than ES, batch shapes', async () => {
    const { root, cleanup } = await makeEchoNetMini();
    try {
      const mini = await view(root);
      const synth = await view(await synthDataset());
      expect(synth).to.deep.equal(mini);
      expect(mini.rowsPerTrace).to.deep.equal([21]);
      expect(mini.splits).to.deep.equal(['TEST', 'TRAIN', 'VAL']);
      expect(mini.esBeforeEd).to.equal(true);
    } finally {
      cleanup();
    }
  });
});
