// Where two fingerprints part: the first stage (and within it the first node, gradient or step)
// whose digest differs, with the size of the difference (relative change of the L2 norm).
import type { Digest, Fingerprint, NodeDigest } from './fingerprint.js';

const same = (a: Digest, b: Digest) => a.sha === b.sha;
const rel = (a: Digest, b: Digest) => Math.abs(a.l2 - b.l2) / Math.max(Math.abs(a.l2), Math.abs(b.l2), 1e-30);
const e = (v: number) => v.toExponential(2);

function keyed(name: string, a: Record<string, Digest>, b: Record<string, Digest>): string[] {
  const keys = Object.keys(a).filter((k) => k in b);
  const differ = keys.filter((k) => !same(a[k], b[k]));
  if (!differ.length) return [`${name}: all ${keys.length} equal`];
  return [
    `${name}: ${differ.length} of ${keys.length} differ (${differ
      .slice(0, 8)
      .map((k) => `${k} ${e(rel(a[k], b[k]))}`)
      .join(', ')}${differ.length > 8 ? ', ...' : ''})`,
  ];
}

function nodes(name: string, a: NodeDigest[], b: NodeDigest[]): string[] {
  const at = new Map(b.map((n) => [n.output, n]));
  const both = a.filter((n) => at.has(n.output));
  const differ = both.filter((n) => !same(n, at.get(n.output)!));
  if (!differ.length) return [`${name}: all ${both.length} node outputs equal`];
  const ops = new Map<string, number>();
  for (const n of differ) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  const firsts = differ
    .slice(0, 5)
    .map((n) => `#${n.index} ${n.op} ${n.output} (${e(rel(n, at.get(n.output)!))})`);
  return [
    `${name}: ${differ.length} of ${both.length} node outputs differ; first: ${firsts.join('; ')}`,
    `${name}: differing outputs by op: ${[...ops].map(([op, n]) => `${op} ${n}`).join(', ')}`,
  ];
}

export function compareFingerprints(a: Fingerprint, b: Fingerprint): string[] {
  const lines = [`${a.label} vs ${b.label}`];
  const hostDiff = Object.keys(a.host).filter((k) => a.host[k] !== b.host[k]);
  lines.push(`host: ${hostDiff.map((k) => `${k} ${a.host[k]} / ${b.host[k]}`).join('; ') || 'same'}`);
  lines.push(...keyed('Math functions', a.math, b.math));
  a.render.forEach((r, i) => {
    const o = b.render[i];
    lines.push(
      `synthetic video ${i} (JavaScript): pixels ${same(r.rgb, o.rgb) ? 'equal' : 'DIFFER'}, masks ${same(r.masks, o.masks) ? 'equal' : 'DIFFER'}`,
    );
  });
  for (const k of Object.keys(a.ffmpeg)) {
    const [x, y] = [a.ffmpeg[k], b.ffmpeg[k]];
    if (!y) continue;
    if ('error' in x || 'error' in y)
      lines.push(`ffmpeg ${k}: failed on ${'error' in x ? a.label : b.label}`);
    else
      lines.push(
        `ffmpeg ${k}: AVI ${same(x.avi, y.avi) ? 'equal' : 'DIFFERS'}, decoded ${same(x.decoded, y.decoded) ? 'equal' : 'DIFFERS'}`,
      );
  }
  // within one host: does restricting ffmpeg's SIMD change its output?
  const base = a.ffmpeg['library (as detected)'];
  for (const [k, v] of Object.entries(a.ffmpeg))
    if (v !== base && !('error' in v) && base && !('error' in base))
      lines.push(
        `ffmpeg ${k} vs as detected, on ${a.label}: AVI ${same(v.avi, base.avi) ? 'equal' : 'DIFFERS'}, decoded ${same(v.decoded, base.decoded) ? 'equal' : 'DIFFERS'}`,
      );
  if (a.initialParams && b.initialParams)
    lines.push(`initial weights: ${same(a.initialParams, b.initialParams) ? 'equal' : 'DIFFER'}`);
  for (const phase of ['ssl', 'weak'] as const) {
    const [x, y] = [a.phases[phase], b.phases[phase]];
    if (!x || !y) continue;
    lines.push(...nodes(`${phase} forward`, x.forward, y.forward));
    lines.push(...keyed(`${phase} train graph outputs (loss, gradients)`, x.gradients, y.gradients));
    const steps = x.steps.map((s, i) => {
      const t = y.steps[i];
      if (!t) return `${s.step}: missing`;
      const batch = same(s.batch, t.batch) ? '' : ' batch DIFFERS';
      const loss = s.lossHex === t.lossHex ? 'loss equal' : `loss ${s.loss} / ${t.loss}`;
      const params = same(s.params, t.params)
        ? 'weights equal'
        : `weights differ ${e(rel(s.params, t.params))}`;
      return `step ${s.step}:${batch} ${loss}, ${params}`;
    });
    lines.push(`${phase} steps: ${steps.join('; ')}`);
  }
  return lines;
}
