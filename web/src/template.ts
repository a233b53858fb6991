// The shadow DOM of <lv-segmenter>: status line, frame canvas with player controls, EF and beats
// table beside the LV-area chart. Parts (`::part(...)`) let a host page restyle them.
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
</div>`;
