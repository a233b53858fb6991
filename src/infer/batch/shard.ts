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

/** Where the shard of a run came from, for the log. */
export interface ShardChoice {
  shard: Shard;
  from: string;
}

/** Environment variable for the shard count of a Kubernetes Indexed Job (set it to the Job's completions). */
export const SHARDS_ENV = 'UNILVSEG_SHARDS';

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const v = Number(text);
  if (!Number.isInteger(v)) throw new Error(`${name}="${text}" is not an integer`);
  return v;
}

/**
 * The shard of this process: `--shard i/n` if given; else a Slurm job array task; else a Kubernetes
 * Indexed Job pod (JOB_COMPLETION_INDEX, the count from `--shards` or UNILVSEG_SHARDS); else the
 * whole list. So one command line runs unchanged under both schedulers and by hand.
 *
 * A Slurm task with a count fixed at submission (`--shards n` or UNILVSEG_SHARDS, as
 * deploy/slurm/segment-batch.sbatch passes) is shard SLURM_ARRAY_TASK_ID of n, whatever part of the
 * array was submitted: `sbatch --array=3` redoes exactly shard 3. Without one, the count is the
 * array's own (SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN in steps of
 * SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT tasks): right only when the whole array is
 * submitted at once.
 */
export function chooseShard(
  flag: string | undefined,
  shards: number | undefined,
  env = process.env,
): ShardChoice {
  if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1))
    throw new Error(`--shards takes a positive integer, got ${shards}`);
  if (flag !== undefined) {
    const shard = parseShard(flag);
    if (shards !== undefined && shards !== shard.count)
      throw new Error(`--shard ${flag} and --shards ${shards} disagree on the number of shards`);
    return { shard, from: '--shard' };
  }
  const fixed = shards ?? envInt(env, SHARDS_ENV);
  const fixedFrom = shards !== undefined ? `--shards ${shards}` : `${SHARDS_ENV}=${fixed}`;
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id !== undefined && fixed !== undefined) {
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX') ?? id;
    if (!(fixed >= 1 && id >= 0 && max < fixed))
      throw new Error(
        `${fixedFrom}: the shards are array tasks 0-${fixed - 1}, but this array goes up to task ${max}: submit --array within 0-${fixed - 1}, or give the array's size as --shards`,
      );
    return { shard: { index: id, count: fixed }, from: `SLURM_ARRAY_TASK_ID=${id} of ${fixedFrom}` };
  }
  if (id !== undefined) {
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
    const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined)
      throw new Error('SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: pass --shards N');
    if (step < 1 || (max !== undefined && (max - min) / step + 1 !== count))
      throw new Error(
        `the Slurm array (min ${min}, max ${max}, step ${step}, ${count} tasks) is not a regular range: use --array=0-${count - 1} or pass --shard i/n`,
      );
    const index = (id - min) / step;
    if (!(Number.isInteger(index) && index >= 0 && index < count))
      throw new Error(
        `SLURM_ARRAY_TASK_ID=${id} is not a task of the array (min ${min}, step ${step}, ${count} tasks)`,
      );
    return { shard: { index, count }, from: `SLURM_ARRAY_TASK_ID=${id}` };
  }
  const k = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k !== undefined) {
    if (fixed === undefined)
      throw new Error(
        `JOB_COMPLETION_INDEX is set (Kubernetes Indexed Job) but not the number of shards: pass --shards N or set ${SHARDS_ENV} to the Job's completions`,
      );
    if (!(fixed >= 1 && k >= 0 && k < fixed))
      throw new Error(`JOB_COMPLETION_INDEX=${k} is not below the number of shards ${fixed}`);
    return { shard: { index: k, count: fixed }, from: `JOB_COMPLETION_INDEX=${k}` };
  }
  if (shards !== undefined && shards !== 1)
    throw new Error(
      `--shards ${shards} without a shard index: give --shard i/${shards}, or run as a Slurm array or Kubernetes Indexed Job`,
    );
  return { shard: { index: 0, count: 1 }, from: 'no shard given: the whole list' };
}
