// The shadow DOM of <lv-segmenter>: status line, frame canvas with player controls, EF and beats
// table beside the LV-area chart, and the tracing and fine-tuning rows (teach.ts). Parts (`::part(...)`) let a host page restyle them.
export const TEMPLATE = `
<style>
  :host { display: block; font: 14px system-ui, sans-serif; color: #222; }
  .status { display: flex; gap: .6em; align-items: center; min-height: 1.6em; }
  .status progress { width: 14em; }
  .status .error { color: #b00020; }
  .backend { font-size: 12px; padding: 1px 6px; border-radius: 4px; background: #eef; }
  .main { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 8px; }
  canvas { width: min(448px, 90vw); aspect-ratio: 1; background: #000; image-rendering: auto; }
  .controls { display: flex; gap: .5em; align-items: center; margin-top: 4px; }
  .controls input { flex: 1; }
  .side { flex: 1; min-width: 320px; }
  .chart svg { width: 100%; height: auto; }
  .ef { font-size: 20px; font-weight: 600; }
  table { border-collapse: collapse; font-size: 13px; }
  td, th { padding: 1px 8px; text-align: right; }
  .teach { margin-top: 10px; display: grid; gap: 4px; }
  .teach .row { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; }
  .teach b { width: 5.5em; }
  .teach input.num { width: 5em; }
  .traced, .tune-status, .dsc { font-size: 12px; color: #445; }
  .dsc { font-weight: 600; }
</style>
<div class="status" part="status">
  <progress max="1" value="0" hidden></progress><span class="message"></span><span class="backend" hidden></span>
</div>
<div class="main">
  <div>
    <canvas part="frame"></canvas>
    <div class="controls">
      <button class="play" disabled>Play</button>
      <input class="scrub" type="range" min="0" max="0" value="0" disabled>
      <span class="position"></span>
    </div>
  </div>
  <div class="side">
    <div><output class="ef" part="ef"></output> <span class="hr"></span></div>
    <div class="chart" part="chart"></div>
    <table class="beats"></table>
  </div>
</div>
<div class="teach" part="teach">
  <div class="row">
    <b>Trace</b>
    <button class="draw" disabled title="click the LV border point by point; click the first point to close">Draw outline</button>
    <button class="edit" disabled title="drag the points of this frame's tracing, or of the predicted contour">Edit contour</button>
    <button class="mark-ed" disabled>Mark ED</button>
    <button class="mark-es" disabled>Mark ES</button>
    <button class="discard">Discard</button>
    <label>split <select class="split"><option>TRAIN</option><option>VAL</option><option>TEST</option></select></label>
    <span class="traced"></span>
  </div>
  <div class="row">
    <b>Fine-tune</b>
    <label>steps <input class="steps num" type="number" min="1" value="30"></label>
    <label>lr <input class="lr num" type="number" step="any" min="0" value="0.001"></label>
    <label>batch <input class="batch num" type="number" min="1" value="2"></label>
    <button class="tune" disabled>Fine-tune</button>
    <button class="cancel" hidden>Cancel</button>
    <progress class="tune-progress" max="1" value="0" hidden></progress>
    <span class="tune-status"></span>
  </div>
  <div class="loss-chart" part="loss-chart"></div>
  <div class="dsc" part="dsc"></div>
</div>`;
