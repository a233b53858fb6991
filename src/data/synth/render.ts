/**
 * Renders the synthetic apical four-chamber echo, frame by frame: a reflectivity map of the
 * chambers and walls, multiplied by time-varying speckle and depth gain, log-compressed into a
 * fan-shaped sector, plus noise. Also writes the LV ground-truth mask of each frame.
 */
import type { Rng } from '../../util/rng.js';
import { HeartModel, type HeartState } from './heart.js';
import { SIZE, type HardParams, type VideoParams } from './params.js';
import { blur, smoothTexture, speckleField, type ComplexField } from './speckle.js';

/** Reflectivities (linear amplitude, 1 = brightest tissue). */
const MYOCARDIUM = 0.3;
const RV_WALL = 0.22;
const PERICARDIUM = 0.7;
const ATRIAL_WALL = 0.15;
const VALVE = 0.35;
const PIXELS = SIZE * SIZE;
const NORMALS = 1 << 15;

export class VideoRenderer {
  readonly model: HeartModel;
  private readonly fan = new Float32Array(PIXELS);
  private readonly gain = new Float32Array(PIXELS);
  private readonly haze = new Float32Array(PIXELS);
  private readonly background: Float32Array;
  /** Slowly varying strength of the myocardial echo, and faint smoke in the blood pools. */
  private readonly muscle: Float32Array;
  private readonly blood: Float32Array;
  private readonly speckle: ComplexField[];
  private readonly refl = new Float32Array(PIXELS);
  /** Pre-drawn standard normals for the per-pixel noise (drawing them fresh dominated the time). */
  private readonly normals = new Float32Array(NORMALS);

  constructor(
    readonly params: VideoParams,
    private readonly rng: Rng,
  ) {
    this.model = new HeartModel(params.heart);
    const { sector, imaging } = params;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = y * SIZE + x;
        const depth = Math.hypot(x - sector.x, y - sector.y);
        const angle = Math.atan2(x - sector.x, y - sector.y);
        const edge = Math.min(
          1,
          Math.max(0, (sector.halfAngle - Math.abs(angle)) * depth),
          sector.radius - depth,
        );
        this.fan[i] = Math.max(0, edge);
        // Beams at the sector edge are weaker; the deep field loses what the TGC does not restore.
        const lateral = 1 - 0.4 * (Math.abs(angle) / sector.halfAngle) ** 4;
        this.gain[i] = Math.exp((-imaging.attenuation * depth) / SIZE) * lateral;
        this.haze[i] = imaging.haze * Math.exp(-depth / 12);
        const hard = params.hard;
        if (hard) {
          this.gain[i] *= dropout(hard, angle);
          this.haze[i] = imaging.haze * hard.hazeGain * Math.exp(-depth / hard.hazeDepth);
        }
      }
    }
    const coarse = smoothTexture(rng, SIZE, SIZE, 5);
    const fine = smoothTexture(rng, SIZE, SIZE, 14);
    this.background = coarse.map((c, i) => 0.006 + 0.07 * c ** 2.5 + 0.035 * fine[i] ** 3);
    this.muscle = smoothTexture(rng, SIZE, SIZE, 9).map((t) => 0.4 + 0.9 * t ** 1.3);
    this.blood = smoothTexture(rng, SIZE, SIZE, 20).map((t) => 0.004 + 0.012 * t ** 4);
    if (params.hard) {
      const { bloodEcho, wallEcho } = params.hard;
      for (let i = 0; i < PIXELS; i++) {
        this.blood[i] *= bloodEcho;
        this.muscle[i] *= wallEcho;
      }
    }
    for (let i = 0; i < NORMALS; i++) this.normals[i] = rng.normal();
    this.speckle = this.polarSpeckle(rng);
  }

  /**
   * Speckle is elongated across the beams, i.e. along arcs around the sector apex, and coarser
   * with depth: draw it on a (depth, angle) grid, then look each pixel up in it.
   */
  private polarSpeckle(rng: Rng): ComplexField[] {
    const { sector, imaging } = this.params;
    const angles = 160;
    const depths = 128;
    const angleStep = (2 * sector.halfAngle) / (angles - 1);
    const depthStep = sector.radius / (depths - 1);
    const index = new Int32Array(PIXELS);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const a = Math.atan2(x - sector.x, y - sector.y) + sector.halfAngle;
        const ai = Math.min(angles - 1, Math.max(0, Math.round(a / angleStep)));
        const di = Math.min(
          depths - 1,
          Math.max(0, Math.round(Math.hypot(x - sector.x, y - sector.y) / depthStep)),
        );
        index[y * SIZE + x] = di * angles + ai;
      }
    }
    // Grain sizes are given in pixels at mid depth.
    const sigmaAngle = imaging.speckleLateral / (0.5 * sector.radius * angleStep);
    const sigmaDepth = imaging.speckleAxial / depthStep;
    return [0, 1, 2].map(() => {
      const polar = speckleField(rng, angles, depths, sigmaAngle, sigmaDepth);
      return {
        re: Float32Array.from(index, (j) => polar.re[j]),
        im: Float32Array.from(index, (j) => polar.im[j]),
      };
    });
  }

  /** Render frame t (contraction k, valve opening, breathing phase) as RGB24 plus its LV mask. */
  render(t: number, k: number, valve: number, breath: number, rgb: Uint8Array, mask: Uint8Array): HeartState {
    const st = this.model.state(k, breath);
    const hard = this.params.hard;
    if (hard) {
      // The probe moves: the heart slides within the fan (mask and tracing follow the state).
      const p = hard.probe;
      st.ox += p.ax * Math.sin((2 * Math.PI * t) / p.px + p.phx);
      st.oy += p.ay * Math.sin((2 * Math.PI * t) / p.py + p.phy);
    }
    this.paintAnatomy(st, mask);
    this.paintValves(st, valve);
    const refl = blur(this.refl, SIZE, SIZE, 0.9, 0.9);
    const { imaging } = this.params;
    // Rotate through three independent speckle fields: unit weights keep the speckle Rayleigh.
    const theta = (2 * Math.PI * t) / (4 * imaging.speckleFrames);
    const psi = (2 * Math.PI * t) / (7.3 * imaging.speckleFrames);
    const w = [Math.cos(theta), Math.sin(theta) * Math.cos(psi), Math.sin(theta) * Math.sin(psi)];
    const [a, b, c] = this.speckle;
    const dbScale = 20 / Math.LN10;
    // The hard look's gain drifts over the clip and its noise is stronger.
    const gainDb = hard
      ? imaging.gainDb + hard.gainSwingDb * Math.sin((2 * Math.PI * t) / hard.gainPeriod + hard.gainPhase)
      : imaging.gainDb;
    const noise = hard ? imaging.noise * hard.noiseGain : imaging.noise;
    // A random start and odd stride through the table: a different noise pattern every frame.
    let n = this.rng.int(0, NORMALS - 1);
    const stride = 2 * this.rng.int(0, NORMALS / 2 - 1) + 1;
    for (let i = 0; i < PIXELS; i++) {
      if (this.fan[i] <= 0) {
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 0;
        continue;
      }
      const re = w[0] * a.re[i] + w[1] * b.re[i] + w[2] * c.re[i];
      const im = w[0] * a.im[i] + w[1] * b.im[i] + w[2] * c.im[i];
      const echo = (refl[i] + this.haze[i]) * Math.sqrt(re * re + im * im) * this.gain[i] + 1e-6;
      const db = dbScale * Math.log(echo) + gainDb;
      const grey =
        255 * (1 + db / imaging.dynamicRange) + noise * this.normals[(n = (n + stride) & (NORMALS - 1))];
      const v = Math.round(Math.min(255, Math.max(0, grey)) * this.fan[i]);
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
    }
    return st;
  }

  /** Walls and cavities by painter's algorithm in the heart frame; the LV mask on the way. */
  private paintAnatomy(st: HeartState, mask: Uint8Array): void {
    const m = this.model;
    const { L, WS, WL, tS, tL, tA, rvTop, rvW, la, ra } = st;
    const rvWall = this.params.heart.rvWall;
    const mitral = m.lv(1);
    const tricuspidRight = -(WS + tS) * mitral;
    const tricuspidLeft = tricuspidRight - rvW * m.rv(1);
    const atriaEnd = L + 4 + Math.max(la.cv - L + la.rv, ra.cv - L + ra.rv);
    const { cos, sin } = m;
    const [u0, v0] = m.toHeart(st, 0, 0);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const i = y * SIZE + x;
        // toHeart, unrolled: this loop runs for every pixel of every frame.
        const u = u0 + x * cos + y * sin;
        const v = v0 - x * sin + y * cos;
        let r = this.background[i];
        mask[i] = 0;
        if (v >= -tA && v <= L) {
          const po = m.lv((v + tA) / (L + tA));
          const septumLeft = -(WS + tS) * po;
          const lateralOut = (WL + tL) * po;
          if (u >= septumLeft && u <= lateralOut) {
            // The lateral wall runs along the beams, so it echoes less than the septum.
            r = MYOCARDIUM * this.muscle[i] * (u > 0 ? 0.7 : 1);
          } else if (u > lateralOut && u <= lateralOut + 2) {
            r = PERICARDIUM;
          } else if (u < septumLeft && v >= rvTop - rvWall) {
            const outer = rvW * m.rv((v - rvTop + rvWall) / (L - rvTop + rvWall)) + rvWall;
            const inner = v >= rvTop ? rvW * m.rv((v - rvTop) / (L - rvTop)) : -1;
            if (u >= septumLeft - inner) r = this.blood[i];
            else if (u >= septumLeft - outer) r = RV_WALL * this.muscle[i];
            else if (u >= septumLeft - outer - 2) r = PERICARDIUM * 0.6;
          }
          if (m.lvInside(st, u, v)) {
            r = this.blood[i];
            mask[i] = 1;
          }
        } else if (v > L && v < atriaEnd) {
          r = atrium(la, u, v, r, this.blood[i]);
          r = atrium(ra, u, v, r, this.blood[i]);
          // The open annuli join the ventricles to the atria.
          const annulus =
            v <= L + 2.5 &&
            ((u >= -WS * mitral && u <= WL * mitral) || (u >= tricuspidLeft && u <= tricuspidRight));
          if (annulus) r = this.blood[i];
        } else if (v < -tA && v > -tA - 2 && Math.abs(u) < (WL + WS) * 0.3) {
          r = PERICARDIUM * 0.5;
        }
        this.refl[i] = r;
      }
    }
  }

  /** Mitral and tricuspid leaflets: shut across the annulus in systole, swung into the ventricle when open. */
  private paintValves(st: HeartState, opening: number): void {
    const m = this.model;
    const mitral = m.lv(1);
    const tricuspidRight = -(st.WS + st.tS) * mitral;
    const tricuspidLeft = tricuspidRight - st.rvW * m.rv(1);
    this.leaflets(st, -st.WS * mitral, st.WL * mitral, opening, 0.6);
    this.leaflets(st, tricuspidLeft, tricuspidRight, opening, 0.5);
  }

  private leaflets(st: HeartState, left: number, right: number, opening: number, share: number): void {
    const width = right - left;
    const meet = left + share * width;
    const hinges: [number, number, number][] = [
      [left, share * width, 1],
      [right, (1 - share) * width, -1],
    ];
    for (const [hu, len, side] of hinges) {
      // Closed: towards the coaptation point just inside the ventricle; open: along the wall.
      const closed = [meet - hu, -1.5];
      const cl = Math.hypot(closed[0], closed[1]);
      const dir = [
        (closed[0] / cl) * (1 - opening) + side * 0.2 * opening,
        (closed[1] / cl) * (1 - opening) - opening,
      ];
      const dl = Math.hypot(dir[0], dir[1]);
      const reach = opening > 0 ? len * 0.9 : cl;
      const [x0, y0] = this.model.toImage(st, hu, st.L);
      const [x1, y1] = this.model.toImage(st, hu + (dir[0] / dl) * reach, st.L + (dir[1] / dl) * reach);
      this.segment(x0, y0, x1, y1, 0.75, VALVE);
    }
  }

  private segment(x0: number, y0: number, x1: number, y1: number, halfWidth: number, value: number): void {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - 1));
    const xb = Math.min(SIZE - 1, Math.ceil(Math.max(x0, x1) + 1));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - 1));
    const yb = Math.min(SIZE - 1, Math.ceil(Math.max(y0, y1) + 1));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const f = Math.min(1, Math.max(0, ((x - x0) * dx + (y - y0) * dy) / len2));
        if (Math.hypot(x - x0 - f * dx, y - y0 - f * dy) <= halfWidth) {
          this.refl[y * SIZE + x] = Math.max(this.refl[y * SIZE + x], value);
        }
      }
    }
  }
}

/**
 * Echo left in a beam at `angle` (radians from the fan's axis): dropout bands lose most of it,
 * with soft edges (a quarter of the band's half-width) so no straight seam shows.
 */
function dropout(hard: HardParams, angle: number): number {
  let keep = 1;
  for (const band of hard.dropout) {
    const edge = band.halfWidth / 4;
    const d = Math.abs(angle - band.centre) - band.halfWidth;
    const inside = d <= -edge ? 1 : d >= edge ? 0 : 0.5 - d / (2 * edge);
    keep = Math.min(keep, 1 - inside * (1 - hard.dropoutDepth));
  }
  return keep;
}

/** Paint an atrium: its thin wall over what is there, its cavity inside. */
function atrium(
  e: { cu: number; cv: number; ru: number; rv: number },
  u: number,
  v: number,
  r: number,
  blood: number,
): number {
  const du = u - e.cu;
  const dv = v - e.cv;
  if ((du / e.ru) ** 2 + (dv / e.rv) ** 2 <= 1) return blood;
  const outer = (du / (e.ru + 1.8)) ** 2 + (dv / (e.rv + 1.8)) ** 2;
  return outer <= 1 ? Math.max(r, ATRIAL_WALL) : r;
}
