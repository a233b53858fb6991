import type { Dim, Shape } from '../ir.js';

/** numpy-style broadcast of static/symbolic shapes. */
export function broadcastShapes(...shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const e = s[k];
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) throw new Error(`cannot broadcast ${shapes.map((x) => `[${x}]`).join(' with ')}`);
    }
    out.push(d);
  }
  return out;
}
