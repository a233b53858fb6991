import { expect } from 'chai';
import { lineChartSvg } from '../../src/eval/plot.js';

describe('eval/plot: line chart with error bars', () => {
  it('draws one line per series, a dot and an error bar per point, and labels ticks with the formatter', () => {
    const svg = lineChartSvg(
      [
        {
          label: 'a',
          color: '#111111',
          points: [
            { x: 0, y: 0.5, lo: 0.4, hi: 0.6 },
            { x: 1, y: 0.7 },
          ],
        },
        {
          label: 'b <c>',
          color: '#222222',
          points: [
            { x: 0, y: 0.6, lo: 0.55, hi: 0.65 },
            { x: 1, y: 0.8, lo: 0.7, hi: 0.9 },
          ],
        },
      ],
      {
        title: 't',
        xLabel: 'x',
        yLabel: 'y',
        xTicks: [0, 1],
        xTickLabel: (t) => `${t * 100} %`,
        y: [0.4, 0.9],
      },
    );
    expect(svg.match(/<polyline/g)).to.have.length(2);
    expect(svg.match(/<circle/g)).to.have.length(4);
    // three error bars, each from lo to hi on the y scale: plot area 32..336 for y 0.9..0.4
    const bars = [
      ...svg.matchAll(
        /<line x1="([\d.]+)" x2="\1" y1="([\d.]+)" y2="([\d.]+)" stroke="#(?:111111|222222)" stroke-width="1.2"/g,
      ),
    ];
    expect(bars).to.have.length(3);
    const sy = (v: number) => 32 + (1 - (v - 0.4) / 0.5) * 304;
    expect(Number(bars[0][2])).to.be.closeTo(sy(0.4), 0.06);
    expect(Number(bars[0][3])).to.be.closeTo(sy(0.6), 0.06);
    expect(svg).to.include('>100 %</text>');
    expect(svg).to.include('b &lt;c&gt;');
  });
});
