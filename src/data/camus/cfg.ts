/**
 * CAMUS's Info_4CH.cfg / Info_2CH.cfg: "Key: Value" lines (ED, ES, NbFrame, Sex, Age,
 * ImageQuality, LVedv, LVesv, LVef). ED and ES are 1-based frame numbers of the sequence.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

export interface CamusInfo {
  file: string;
  /** 1-based frame numbers, as the file writes them. */
  ed: number;
  es: number;
  nbFrame: number;
  /** As written (Good, Medium, Poor); lower-cased for grouping. */
  quality: string;
  /** Biplane volumes (mL) and EF (%) of the release, when present. */
  lvEdv: number | null;
  lvEsv: number | null;
  lvEf: number | null;
  /** Every key as written, numbers parsed. */
  fields: Record<string, string | number>;
}

/** Parses a cfg file; ED, ES, NbFrame and ImageQuality are required, the volumes optional. */
export function readCamusInfo(file: string): CamusInfo {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as Error).message})`);
  }
  const fields: Record<string, string | number> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new DataError(file, `"${line.slice(0, 60)}" is not "Key: Value"`, i + 1);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const n = Number(value);
    fields[key] = value !== '' && Number.isFinite(n) ? n : value;
  });
  const int = (key: string): number => {
    const v = fields[key];
    if (v === undefined) throw new DataError(file, `no ${key} line`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new DataError(file, `${key} "${v}" is not a positive integer`);
    return v;
  };
  const num = (key: string): number | null =>
    typeof fields[key] === 'number' ? (fields[key] as number) : null;
  const nbFrame = int('NbFrame');
  const ed = int('ED');
  const es = int('ES');
  for (const [k, v] of [
    ['ED', ed],
    ['ES', es],
  ] as const)
    if (v > nbFrame) throw new DataError(file, `${k} ${v} is past NbFrame ${nbFrame}`);
  if (ed === es) throw new DataError(file, `ED and ES are the same frame (${ed})`);
  const quality = fields.ImageQuality;
  if (typeof quality !== 'string' || quality === '') throw new DataError(file, 'no ImageQuality line');
  return {
    file,
    ed,
    es,
    nbFrame,
    quality,
    lvEdv: num('LVedv'),
    lvEsv: num('LVesv'),
    lvEf: num('LVef'),
    fields,
  };
}
