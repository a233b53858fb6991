import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { readCamusCase } from '../../src/data/camus/dataset.js';
import { prepareCase } from '../../src/data/camus/preprocess.js';
import { camusModelInput } from '../../src/infer/camus.js';

const NIFTI = fileURLToPath(new URL('../../../test/fixtures/camus/nifti/database_nifti/', import.meta.url));

describe('CAMUS model input', () => {
  const p = prepareCase(readCamusCase(NIFTI, 'patient0001', '4CH'), 'upstream');
  // upstream's EchoNet statistics, as every script passes them
  const mean = [0.12741163, 0.1279413, 0.12912785];
  const std = [0.19557191, 0.19562256, 0.1965878];

  it('pads a 12-frame sequence to T=16 with frames whose normalised value is within 0.01 of zero', () => {
    const { video, padValue } = camusModelInput(p, 'upstream', { frames: 16, period: 1, size: 112, mean });
    expect([video.count, video.height, video.width]).to.deep.equal([16, 112, 112]);
    // round(255 * mean): 32.49 -> 32, 32.62 -> 33, 32.93 -> 33
    expect(padValue).to.deep.equal([32, 33, 33]);
    padValue.forEach((v, c) => expect(Math.abs(v / 255 - mean[c]) / std[c]).to.be.below(0.01));
    const plane = 112 * 112;
    for (let f = 12; f < 16; f++)
      for (let i = 0; i < plane; i += 997)
        expect(Array.from(video.frames.subarray((f * plane + i) * 3, (f * plane + i) * 3 + 3))).to.deep.equal(
          [32, 33, 33],
        );
    // Real frames: the grey in all three channels.
    const k = 5 * plane + 56 * 112 + 40;
    expect(Array.from(video.frames.subarray(3 * k, 3 * k + 3))).to.deep.equal([
      p.frames[k],
      p.frames[k],
      p.frames[k],
    ]);
  });

  it('adds no padding when the sequence is T*p frames or longer, and refuses frames of another size', () => {
    expect(camusModelInput(p, 'upstream', { frames: 8, period: 1, size: 112 }).video.count).to.equal(12);
    expect(camusModelInput(p, 'upstream', { frames: 4, period: 4, size: 112 }).video.count).to.equal(16);
    expect(() => camusModelInput(p, 'upstream', { frames: 16, period: 1, size: 128 })).to.throw(
      /112x112, the model takes 128x128/,
    );
  });

  it("maps native frames to the model's square through the sector crop", () => {
    const native = prepareCase(readCamusCase(NIFTI, 'patient0001', '4CH'), 'native');
    const { video, planned } = camusModelInput(native, 'native', { frames: 16, period: 1, size: 112 });
    expect([video.count, video.height, video.width]).to.deep.equal([16, 112, 112]);
    expect(planned!.mapping.mode).to.equal('sector');
    expect(planned!.summary.note).to.match(/^sector \d+x\d+ at/);
  });
});
