import { expect } from 'chai';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { checkGraph } from '../../src/onnx/check.js';
import * as op from '../../src/onnx/ops/index.js';
import { decodeGraph, encodeGraph, OPSET } from '../../src/onnx/serialize.js';

describe('onnx/serialize: writing and reading .onnx', () => {
  it('round-trips nodes, attributes, typed inputs/outputs, symbolic dims, metadata and initializer bytes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2, 4, 4]);
    const w = b.initializer('w', {
      dtype: 'float32',
      dims: [3, 2, 3, 3],
      data: Float32Array.from({ length: 54 }, (_, i) => i / 7 - 3),
    });
    const y = op.conv(x, w, null, { pads: [1, 1, 1, 1] });
    b.output(
      op.instanceNorm(
        y,
        b.constant(Float32Array.of(1, 1, 1), 'float32', [3]),
        b.constant(Float32Array.of(0, 0, 0), 'float32', [3]),
        1e-5,
      ),
      'y',
    );
    b.metadata.encoder = 'test';
    const g = b.toGraph('roundtrip');
    const back = decodeGraph(encodeGraph(g));
    expect(checkGraph(back)).to.deep.equal([]);
    expect(back.inputs).to.deep.equal([{ name: 'x', dtype: 'float32', shape: ['N', 2, 4, 4] }]);
    expect(back.outputs[0]).to.deep.equal({ name: 'y', dtype: 'float32', shape: ['N', 3, 4, 4] });
    expect(back.metadata).to.deep.equal({ encoder: 'test' });
    expect(back.nodes.map((n) => n.op)).to.deep.equal(g.nodes.map((n) => n.op));
    expect(back.nodes.find((n) => n.op === 'Conv')!.attrs.pads).to.deep.equal([1, 1, 1, 1]);
    expect(
      (back.nodes.find((n) => n.op === 'InstanceNormalization')!.attrs.epsilon as { float: number }).float,
    ).to.equal(Math.fround(1e-5));
    for (const [name, t] of g.initializers) {
      const r = back.initializers.get(name)!;
      expect(r.dims).to.deep.equal(t.dims);
      expect(Array.from(r.data as Float32Array), name).to.deep.equal(Array.from(t.data as Float32Array));
    }
    expect(OPSET).to.be.at.least(17);
  });
});
