import { expect } from 'chai';
import { binaryDiceLoss, diceCounts, mseLoss } from '../../graphs/losses.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { gradCheck } from '../helpers/gradcheck.js';

async function evalLosses(logits: number[], target: number[]) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, logits.length]);
  const t = b.input('t', 'float32', [1, logits.length]);
  b.output(binaryDiceLoss(x, t), 'dice');
  const c = diceCounts(x, t);
  b.output(c.tp, 'tp');
  b.output(c.fp, 'fp');
  b.output(c.fn, 'fn');
  b.output(mseLoss(x, t), 'mse');
  const s = await createSession(b.toGraph('losses'));
  const out = await s.run({
    x: tensor('float32', Float32Array.from(logits), [1, logits.length]),
    t: tensor('float32', Float32Array.from(target), [1, logits.length]),
  });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Number(v.data[0])]));
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('losses and metrics (docs/upstream.md#dice-loss)', () => {
  it('Dice loss is 1 - 2 sum(p t) / sum(p + t), pooled', async () => {
    const logits = [2, -1, 0.5, -3];
    const target = [1, 0, 1, 0];
    const p = logits.map(sig);
    const expected = 1 - (2 * (p[0] + p[2])) / (p.reduce((a, b) => a + b) + 2);
    const r = await evalLosses(logits, target);
    expect(r.dice).to.be.closeTo(expected, 1e-6);
    expect(r.mse).to.be.closeTo(logits.reduce((s, x, i) => s + (x - target[i]) ** 2, 0) / 4, 1e-5);
  });
  it('Dice loss is zero when the batch has no positive pixel', async () => {
    expect((await evalLosses([2, -1, 0.5], [0, 0, 0])).dice).to.equal(0);
  });
  it('counts use sigmoid > 0.5 strictly (logit 0 is negative)', async () => {
    const r = await evalLosses([2, 0, 0.5, -3, 1], [1, 1, 0, 0, 1]);
    expect([r.tp, r.fp, r.fn]).to.deep.equal([2, 1, 1]);
  });
  it('Dice loss gradient by finite differences', async () => {
    const t = Float32Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    await gradCheck(
      [
        { name: 'x', shape: [2, 3, 4], dtype: 'float32' },
        { name: 't', shape: [2, 3, 4], dtype: 'float32', data: t, wrt: false },
      ],
      ([x, tt]) => op.unsqueeze(binaryDiceLoss(x, tt), [0]),
      { eps: 1e-2, rtol: 2e-3, atol: 1e-4 },
    );
  });
  it('Max / Min VJP (the clamp in the Dice denominator)', async () => {
    await gradCheck(
      [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [3] },
      ],
      ([a, b]) => op.max(a, b),
    );
    await gradCheck(
      [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [3] },
      ],
      ([a, b]) => op.min(a, b),
    );
  });
});
