import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCamusCase, listPatients } from '../../src/data/camus/dataset.js';
import { prepareCase } from '../../src/data/camus/preprocess.js';
import { writeSyntheticCamus, type CopiedPatient } from '../../src/data/camus/synthetic-copy.js';
import { readGroundTruthMasks } from '../../src/data/synth/truth.js';
import { decodeVideo } from '../../src/data/video.js';
import { synthDataset } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-camus-synth');

describe('synth --format camus: a CAMUS-format copy of a synthetic dataset', function () {
  this.timeout(120_000);
  let src: string;
  let out: string;
  let copied: CopiedPatient[];
  before(async () => {
    src = await synthDataset();
    out = tmp('copy');
    copied = await writeSyntheticCamus({ from: src, split: 'all', out });
  });

  it('writes one patient per video, alternating ED->ES and ES->ED half sequences between true ED and ES frames', () => {
    const dir = join(out, 'database_nifti');
    expect(listPatients(dir)).to.deep.equal(copied.map((c) => c.patient));
    expect(copied.length).to.be.at.least(3); // videos without an ED and a later ES (or the reverse) are left out
    copied.forEach((c, i) => {
      const truth = readGroundTruthMasks(src, c.video);
      const [from, to] =
        c.direction === 'ED->ES' ? [truth.edFrames, truth.esFrames] : [truth.esFrames, truth.edFrames];
      expect(from).to.include(c.first);
      expect(to).to.include(c.last);
      expect(c.direction).to.equal(i % 2 === 0 ? 'ED->ES' : 'ES->ED');
      const cs = readCamusCase(dir, c.patient, '4CH');
      const n = c.last - c.first + 1;
      expect([cs.sequence.frames, cs.sequence.height, cs.sequence.width, cs.labels.size]).to.deep.equal([
        n,
        560,
        448,
        n,
      ]);
      expect(cs.sequence.spacing.x).to.be.closeTo(0.4, 1e-6);
      expect(cs.sequence.spacing.y).to.be.closeTo(0.32, 1e-6);
      expect([cs.info.ed, cs.info.es]).to.deep.equal(c.direction === 'ED->ES' ? [1, n] : [n, 1]);
      expect(cs.info.lvEf).to.be.closeTo(truth.efTrue, 0.005);
    });
    const qualities = copied.map((c) => c.quality);
    for (const q of ['Good', 'Medium', 'Poor']) expect(qualities).to.include(q);
  });

  it("comes back through upstream's preprocessing as the synthetic truth exactly and the video's frames closely", async () => {
    const dir = join(out, 'database_nifti');
    for (const c of copied.slice(0, 3)) {
      const p = prepareCase(readCamusCase(dir, c.patient, '4CH'), 'upstream');
      const truth = readGroundTruthMasks(src, c.video);
      const video = await decodeVideo(join(src, 'Videos', `${c.video}.avi`));
      const plane = 112 * 112;
      let absDiff = 0;
      p.source.forEach((s, k) => {
        const f = c.first + s;
        // Labels: enlarged 4x5 by repetition, shrunk by nearest: the same pixels.
        expect(
          Buffer.from(p.truth.get(k)!).equals(Buffer.from(truth.masks.subarray(f * plane, (f + 1) * plane))),
        ).to.equal(true);
        for (let i = 0; i < plane; i++) {
          const rgb = video.frames.subarray((f * plane + i) * 3, (f * plane + i) * 3 + 3);
          absDiff += Math.abs(p.frames[k * plane + i] - (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]));
        }
      });
      // Bilinear 4x5 enlargement then area shrinking blurs the speckle a little: under 4 grey
      // levels on average on these clips (3.7 measured), what the round trip costs.
      expect(absDiff / (p.count * plane)).to.be.below(4.5);
    }
  });

  it("is read by nibabel with the same voxels, shape and spacing (Debian's python3-nibabel)", function () {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import nibabel'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip(); // .ci/system-packages installs it
    const c = copied[1];
    const file = join(out, 'database_nifti', c.patient, `${c.patient}_4CH_half_sequence.nii.gz`);
    const script = [
      'import sys, nibabel as nib, numpy as np',
      'img = nib.load(sys.argv[1])',
      'a = np.asarray(img.dataobj)',
      'print(a.dtype, a.shape, tuple(float(z) for z in img.header.get_zooms()))',
      // voxel [x, y, frame] for a few positions
      'print(int(a[10, 200, 0]), int(a[300, 20, 1]), int(a[447, 559, a.shape[2] - 1]))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const [head, voxels] = r.stdout.trim().split('\n');
    const cs = readCamusCase(join(out, 'database_nifti'), c.patient, '4CH');
    const n = cs.sequence.frames;
    const m = /^uint8 \((\d+), (\d+), (\d+)\) \(([\d.]+), ([\d.]+), ([\d.]+)\)$/.exec(head);
    expect(m, head).to.not.equal(null);
    expect(m!.slice(1, 4).map(Number)).to.deep.equal([448, 560, n]);
    expect(
      m!
        .slice(4)
        .map(Number)
        .map((z) => Math.round(z * 1e6) / 1e6),
    ).to.deep.equal([0.4, 0.32, 1]);
    const at = (f: number, y: number, x: number) => cs.sequence.data[(f * 560 + y) * 448 + x];
    expect(voxels).to.equal(`${at(0, 200, 10)} ${at(1, 20, 300)} ${at(n - 1, 559, 447)}`);
    expect(readFileSync(join(out, 'synthetic-copy.csv'), 'utf8').split('\n')[0]).to.equal(
      'patient,video,direction,first_frame,last_frame,image_quality,contrast',
    );
  });
});
