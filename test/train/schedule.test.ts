import { expect } from 'chai';
import { multiStepLr, validationPoints } from '../../src/train/schedule.js';

describe('train/schedule', () => {
  it('MultiStepLR [45, 60] x0.1, stepped per epoch (docs/upstream.md#optimiser-and-schedule)', () => {
    expect(multiStepLr(3e-4, 0, [45, 60], 0.1)).to.equal(3e-4);
    expect(multiStepLr(3e-4, 44, [45, 60], 0.1)).to.equal(3e-4);
    expect(multiStepLr(3e-4, 45, [45, 60], 0.1)).to.be.closeTo(3e-5, 1e-12);
    expect(multiStepLr(3e-4, 59, [45, 60], 0.1)).to.be.closeTo(3e-5, 1e-12);
    expect(multiStepLr(3e-4, 60, [45, 60], 0.1)).to.be.closeTo(3e-6, 1e-13);
    expect(multiStepLr(3e-4, 99)).to.equal(3e-4); // SSL: no schedule
  });
  it('validation every int(batches * interval) batches, as Lightning', () => {
    expect(validationPoints(932, 0.25)).to.deep.equal([232, 465, 698, 931]);
    expect(validationPoints(10, 0.5)).to.deep.equal([4, 9]);
    expect(validationPoints(3, 0.25)).to.deep.equal([0, 1, 2]);
    expect(validationPoints(10, 1)).to.deep.equal([9]);
    expect(validationPoints(10, 4)).to.deep.equal([3, 7]);
  });
});
