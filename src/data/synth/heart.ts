/**
 * Geometry of the synthetic apical four-chamber heart. Shapes live in a "heart frame" whose
 * origin is the LV apex, v pointing from the apex to the mitral annulus and u pointing to the LV
 * lateral wall; the picture places that frame with a rotation and a small breathing drift.
 *
 * The LV cavity is {0 <= v <= L, -WS*p(v/L) <= u <= WL*p(v/L)}: a bullet whose half-widths on
 * the septal (WS) and lateral (WL) side follow one profile p. The ground-truth mask, the
 * rendered cavity and the tracing all come from `lvInside`, so they cannot disagree.
 */

/** Per-video constants of the heart (pixels, radians; contraction fractions at full systole). */
export interface HeartShape {
  apexX: number;
  apexY: number;
  angle: number;
  length: number;
  septalWidth: number;
  lateralWidth: number;
  /** Fraction of the length where the cavity is widest. */
  widestAt: number;
  /** Exponent of the apical curve: 0.5 is elliptical, smaller is blunter, larger more pointed. */
  apexExponent: number;
  /** Relative narrowing from the widest point to the mitral annulus. */
  baseNarrowing: number;
  wall: number;
  apicalWall: number;
  /** Base-to-apex shortening, septal and lateral inward motion, all at contraction 1. */
  shortening: number;
  septalShrink: number;
  lateralShrink: number;
  /** Scales all three so that the traced EF hits the video's target. */
  amplitude: number;
  rvWidth: number;
  rvApexDrop: number;
  rvWall: number;
  laWidth: number;
  laHeight: number;
  raWidth: number;
  raHeight: number;
  /** Breathing drift of the whole heart in pixels (x, y). */
  driftX: number;
  driftY: number;
}

/** The heart at one instant: contraction k in [0, 1] (0 = end-diastole) and a drift offset. */
export interface HeartState {
  k: number;
  L: number;
  WS: number;
  WL: number;
  tS: number;
  tL: number;
  tA: number;
  rvTop: number;
  rvW: number;
  la: Ellipse;
  ra: Ellipse;
  /** Image-space offset of the apex from its rest position. */
  ox: number;
  oy: number;
}

export interface Ellipse {
  cu: number;
  cv: number;
  ru: number;
  rv: number;
}

const LUT_SIZE = 1024;

export class HeartModel {
  readonly cos: number;
  readonly sin: number;
  /** LV half-width profile p(s), s in [0, 1], tabulated. */
  private readonly lvProfile = new Float64Array(LUT_SIZE + 1);
  private readonly rvProfile = new Float64Array(LUT_SIZE + 1);

  constructor(readonly shape: HeartShape) {
    this.cos = Math.cos(shape.angle);
    this.sin = Math.sin(shape.angle);
    const { widestAt: c, apexExponent: g, baseNarrowing: b } = shape;
    for (let i = 0; i <= LUT_SIZE; i++) {
      const s = i / LUT_SIZE;
      this.lvProfile[i] = s < c ? Math.pow(1 - ((c - s) / c) ** 2, g) : 1 - b * ((s - c) / (1 - c)) ** 2;
      // The RV is a narrow triangle in this view, widest near the tricuspid annulus.
      this.rvProfile[i] = s < 0.8 ? Math.pow(s / 0.8, 0.6) : 1 - 0.2 * ((s - 0.8) / 0.2) ** 2;
    }
  }

  lv(s: number): number {
    return s <= 0 ? 0 : s >= 1 ? this.lvProfile[LUT_SIZE] : this.lvProfile[Math.round(s * LUT_SIZE)];
  }

  rv(s: number): number {
    return s <= 0 ? 0 : s >= 1 ? this.rvProfile[LUT_SIZE] : this.rvProfile[Math.round(s * LUT_SIZE)];
  }

  /** The heart at contraction k (per-beat amplitude already applied) with a drift phase. */
  state(k: number, driftPhase: number): HeartState {
    const h = this.shape;
    const a = h.amplitude * k;
    const L = h.length * (1 - h.shortening * a);
    const WS = h.septalWidth * (1 - h.septalShrink * a);
    const WL = h.lateralWidth * (1 - h.lateralShrink * a);
    // The myocardium keeps its volume, so it thickens as the cavity shrinks.
    const thicken = 1 + 0.45 * Math.min(1, a);
    const tS = h.wall * thicken;
    const tL = h.wall * 1.05 * thicken;
    const tA = h.apicalWall * (1 + 0.2 * Math.min(1, a));
    // The atria fill while the ventricles empty and ride up with the annulus.
    const fill = 1 + 0.12 * k;
    const annulusMid = ((WL - WS) * this.lv(1)) / 2;
    const laRu = h.laWidth * fill;
    const laRv = h.laHeight * fill;
    const la = { cu: annulusMid + 0.1 * laRu, cv: L + 2 + 0.92 * laRv, ru: laRu, rv: laRv };
    const raRu = h.raWidth * (1 + 0.08 * k);
    const raRv = h.raHeight * (1 + 0.08 * k);
    const ra = { cu: la.cu - laRu - 3 - raRu, cv: L + 2 + 0.92 * raRv, ru: raRu, rv: raRv };
    return {
      k,
      L,
      WS,
      WL,
      tS,
      tL,
      tA,
      rvTop: h.rvApexDrop,
      rvW: h.rvWidth * (1 - 0.25 * Math.min(1, a)),
      la,
      ra,
      ox: h.driftX * Math.sin(driftPhase),
      oy: h.driftY * Math.sin(driftPhase),
    };
  }

  /** Image point -> heart frame (u, v). */
  toHeart(st: HeartState, x: number, y: number): [number, number] {
    const dx = x - this.shape.apexX - st.ox;
    const dy = y - this.shape.apexY - st.oy;
    return [dx * this.cos + dy * this.sin, -dx * this.sin + dy * this.cos];
  }

  /** Heart frame (u, v) -> image point. */
  toImage(st: HeartState, u: number, v: number): [number, number] {
    return [
      this.shape.apexX + st.ox + u * this.cos - v * this.sin,
      this.shape.apexY + st.oy + u * this.sin + v * this.cos,
    ];
  }

  /** Is heart-frame point (u, v) inside the LV cavity (endocardial border)? */
  lvInside(st: HeartState, u: number, v: number): boolean {
    if (v < 0 || v > st.L) return false;
    const p = this.lv(v / st.L);
    return u >= -st.WS * p && u <= st.WL * p;
  }

  /** Is image point (x, y) inside the LV cavity? The ground-truth mask samples this at pixel centres. */
  lvInsideImage(st: HeartState, x: number, y: number): boolean {
    const [u, v] = this.toHeart(st, x, y);
    return this.lvInside(st, u, v);
  }

  /**
   * EchoNet-style tracing of the cavity: row 0 the long axis from the apex (X1,Y1) to the
   * mitral-annulus midpoint (X2,Y2); rows 1..chords the chords perpendicular to it at the disc
   * centres, X1,Y1 on the septal wall and X2,Y2 on the lateral wall, apex to base.
   */
  trace(st: HeartState, chords = 20): number[][] {
    const baseMid: [number, number] = [((st.WL - st.WS) * this.lv(1)) / 2, st.L];
    const axisLen = Math.hypot(baseMid[0], baseMid[1]);
    const dir = [baseMid[0] / axisLen, baseMid[1] / axisLen];
    const lateral = [dir[1], -dir[0]]; // perpendicular, pointing to +u (the lateral wall)
    const rows: number[][] = [[...this.toImage(st, 0, 0), ...this.toImage(st, baseMid[0], baseMid[1])]];
    for (let i = 1; i <= chords; i++) {
      const along = ((i - 0.5) / chords) * axisLen;
      const pu = dir[0] * along;
      const pv = dir[1] * along;
      const tSept = this.wallDistance(st, pu, pv, -lateral[0], -lateral[1]);
      const tLat = this.wallDistance(st, pu, pv, lateral[0], lateral[1]);
      rows.push([
        ...this.toImage(st, pu - lateral[0] * tSept, pv - lateral[1] * tSept),
        ...this.toImage(st, pu + lateral[0] * tLat, pv + lateral[1] * tLat),
      ]);
    }
    return rows;
  }

  /** Distance from an inside point along a unit direction to the cavity border (bisection). */
  private wallDistance(st: HeartState, u: number, v: number, du: number, dv: number): number {
    let inside = 0;
    let outside = 0.25;
    while (this.lvInside(st, u + du * outside, v + dv * outside)) {
      inside = outside;
      outside += 0.25;
      if (outside > 200) throw new Error('LV border not found: the cavity is not closed');
    }
    for (let it = 0; it < 30; it++) {
      const mid = (inside + outside) / 2;
      if (this.lvInside(st, u + du * mid, v + dv * mid)) inside = mid;
      else outside = mid;
    }
    return inside;
  }
}
