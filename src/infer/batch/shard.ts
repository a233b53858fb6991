// Which part of a video list one process handles: shard i of n takes the videos k with k mod n = i.

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 0 && index < count))
    throw new Error(`--shard takes i/n with 0 <= i < n (e.g. 0/4), got "${text}"`);
  return { index, count };
}

/** The items of `shard` (round robin over the list, so long and short runs of videos spread evenly). */
export function shardItems<T>(items: T[], shard?: Shard): T[] {
  return shard ? items.filter((_, k) => k % shard.count === shard.index) : items;
}

/** `shard-03-of-12` (indices zero-padded to the count's width, so names sort in shard order). */
export function shardTag(shard: Shard): string {
  const w = String(shard.count - 1).length;
  return `shard-${String(shard.index).padStart(w, '0')}-of-${shard.count}`;
}

/** `summary.csv` for a whole run, `summary.shard-03-of-12.csv` for one shard of it. */
export function shardFileName(base: string, shard?: Shard): string {
  if (!shard) return base;
  const dot = base.lastIndexOf('.');
  return `${base.slice(0, dot)}.${shardTag(shard)}${base.slice(dot)}`;
}
