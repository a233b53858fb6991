// Drawing and editing an LV outline on <lv-segmenter>'s frame canvas. Points are in the video's
// own pixel coordinates (pixel centres at integers, as VolumeTracings rows are written). Drawing:
// each click adds a point; a click on the first point (or a double click) closes the outline.
// Editing: the points become handles to drag (the predicted contour, simplified, or a saved
// tracing's outline).
import type { Outline } from '../../src/infer/cardiac/tracing.js';

export type EditMode = 'idle' | 'draw' | 'edit';

/** How near (canvas pixels) a click must be to a point to pick it. */
const PICK = 9;
const DRAWING = '#ffd23f';
const SAVED: Record<'ED' | 'ES', string> = { ED: '#4fc3f7', ES: '#f06292' };

export class TracingEditor {
  mode: EditMode = 'idle';
  private x: number[] = [];
  private y: number[] = [];
  private dragging = -1;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** canvas pixels per video pixel */
    private readonly scale: () => number,
    /** repaint the frame and then call draw() */
    private readonly redraw: () => void,
    /** the outline changed (closed, moved, cleared) */
    private readonly changed: () => void,
  ) {
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', () => (this.dragging = -1));
    canvas.addEventListener('dblclick', (e) => {
      e.preventDefault();
      if (this.mode === 'draw' && this.x.length >= 3) this.close();
    });
  }

  /** Start a new outline by clicks. */
  draw(): void {
    this.set({ x: [], y: [] }, 'draw');
  }

  /** Edit the given outline's points. */
  edit(o: Outline): void {
    this.set({ x: [...o.x], y: [...o.y] }, o.x.length >= 3 ? 'edit' : 'draw');
  }

  clear(): void {
    this.set({ x: [], y: [] }, 'idle');
  }

  /** The closed outline being edited, or null. */
  outline(): Outline | null {
    return this.mode === 'edit' ? { x: [...this.x], y: [...this.y] } : null;
  }

  private set(o: Outline, mode: EditMode): void {
    this.x = o.x;
    this.y = o.y;
    this.mode = mode;
    this.canvas.style.cursor = mode === 'idle' ? '' : 'crosshair';
    this.redraw();
    this.changed();
  }

  private close(): void {
    this.mode = 'edit';
    this.redraw();
    this.changed();
  }

  /** Video pixel coordinates of a pointer event. */
  private at(e: PointerEvent | MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const s = this.scale();
    return [
      ((e.clientX - r.left) * this.canvas.width) / r.width / s - 0.5,
      ((e.clientY - r.top) * this.canvas.height) / r.height / s - 0.5,
    ];
  }

  /** Index of the point within PICK canvas pixels of (x, y), or -1. */
  private pick(x: number, y: number): number {
    const s = this.scale();
    let best = -1;
    let bestD = PICK;
    for (let i = 0; i < this.x.length; i++) {
      const d = Math.hypot(this.x[i] - x, this.y[i] - y) * s;
      if (d < bestD) [best, bestD] = [i, d];
    }
    return best;
  }

  private down(e: PointerEvent): void {
    if (this.mode === 'idle') return;
    const [x, y] = this.at(e);
    if (this.mode === 'draw') {
      if (this.x.length >= 3 && this.pick(x, y) === 0) return this.close();
      this.x.push(x);
      this.y.push(y);
      return this.redraw();
    }
    this.dragging = this.pick(x, y);
    if (this.dragging >= 0) this.canvas.setPointerCapture?.(e.pointerId);
  }

  private move(e: PointerEvent): void {
    if (this.dragging < 0) return;
    const [x, y] = this.at(e);
    this.x[this.dragging] = x;
    this.y[this.dragging] = y;
    this.redraw();
    this.changed();
  }

  /** Draw the saved tracings of the shown frame, then the outline being drawn or edited. */
  paint(ctx: CanvasRenderingContext2D, saved: { kind: 'ED' | 'ES'; outline: Outline }[]): void {
    const s = this.scale();
    const path = (o: Outline, closed: boolean) => {
      ctx.beginPath();
      o.x.forEach((x, i) => ctx[i ? 'lineTo' : 'moveTo']((x + 0.5) * s, (o.y[i] + 0.5) * s));
      if (closed) ctx.closePath();
    };
    ctx.save();
    ctx.lineWidth = Math.max(1.5, s / 2);
    ctx.font = `${Math.max(12, 3 * s)}px system-ui, sans-serif`;
    for (const t of saved) {
      ctx.strokeStyle = ctx.fillStyle = SAVED[t.kind];
      ctx.setLineDash([2 * s, s]);
      path(t.outline, true);
      ctx.stroke();
      ctx.fillText(t.kind, (t.outline.x[0] + 2) * s, (t.outline.y[0] - 2) * s);
    }
    ctx.setLineDash([]);
    if (this.mode !== 'idle' && this.x.length) {
      ctx.strokeStyle = ctx.fillStyle = DRAWING;
      path({ x: this.x, y: this.y }, this.mode === 'edit');
      ctx.stroke();
      for (let i = 0; i < this.x.length; i++) {
        ctx.beginPath();
        ctx.arc((this.x[i] + 0.5) * s, (this.y[i] + 0.5) * s, Math.max(3, s), 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.restore();
  }
}
