// A state dict out of a torch.save file: either the file's top-level dict of tensors (a plain
// torch.save(model.state_dict())), the `state_dict` of a dict that has one (a Lightning
// checkpoint, whose keys carry the `model.` prefix of the LightningModule's attribute), or the
// `model` of a dict that has one (an encoder's classification weights as released, e.g. UniFormer's
// ImageNet checkpoints, which upstream loads into the encoder), plus, for Lightning, the epoch, the
// step and the first optimizer's per-parameter state.
import type { SafeTensor } from '../safetensors.js';
import { PyDict, type PyValue } from './pickle.js';
import { describePyValue, openTorchFile, TensorReader, TensorRef } from './torch-file.js';

export interface TorchCheckpoint {
  /** 'encoder': the `model` entry of a released classification checkpoint, an encoder's weights only */
  format: 'lightning' | 'torch' | 'encoder';
  /** the state dict as stored (a Lightning `model.` prefix is still there) */
  tensors: Map<string, SafeTensor>;
  /** epoch and step when the file has them (Lightning) */
  metadata: Record<string, string>;
  /** optimizer_states[0]'s state in parameter order (model.parameters()), when asked for and present */
  optimizerByIndex?: Map<string, SafeTensor>[];
  notes: string[];
  /** globals the file names that were kept as inert placeholders (e.g. Lightning's hyper-parameter classes) */
  ignoredGlobals: string[];
}

const get = (d: PyValue, key: string): PyValue => (d instanceof PyDict ? d.get(key) : undefined);

function stateDictOf(path: string, root: PyValue): { format: TorchCheckpoint['format']; dict: PyDict } {
  if (!(root instanceof PyDict))
    throw new Error(
      `${path} holds ${describePyValue(root)}, not a state dict${describePyValue(root).startsWith('an object') ? ' (a whole pickled module? save model.state_dict() instead)' : ''}`,
    );
  const sd = root.get('state_dict');
  // Lightning writes its version, epoch and global_step next to the state dict; a file trimmed to
  // the state dict and the counters is still one of its checkpoints.
  if (sd instanceof PyDict)
    return {
      format: root.has('pytorch-lightning_version') || root.has('global_step') ? 'lightning' : 'torch',
      dict: sd,
    };
  if ([...root.values()].some((v) => v instanceof TensorRef)) return { format: 'torch', dict: root };
  const model = root.get('model');
  if (model instanceof PyDict && [...model.values()].some((v) => v instanceof TensorRef))
    return { format: 'encoder', dict: model };
  throw new Error(
    `${path} holds a dict without tensors or a "state_dict" entry (keys: ${[...root.keys()].slice(0, 8).join(', ')}), not a checkpoint`,
  );
}

/** Per-parameter optimizer state of a Lightning checkpoint, ordered as model.parameters(). */
function optimizerEntries(root: PyValue): { index: number; state: PyDict }[] | undefined {
  const states = get(root, 'optimizer_states');
  if (!Array.isArray(states) || states.length === 0) return undefined;
  const state = get(states[0], 'state');
  const groups = get(states[0], 'param_groups');
  if (!(state instanceof PyDict) || !Array.isArray(groups)) return undefined;
  const order = groups.flatMap((g) => {
    const p = get(g, 'params');
    return Array.isArray(p) ? p : [];
  });
  return order.map((index) => ({ index: index as number, state: state.get(index as number) as PyDict }));
}

export async function readTorchCheckpoint(
  path: string,
  opts: { optimizer?: boolean } = {},
): Promise<TorchCheckpoint> {
  const file = await openTorchFile(path);
  try {
    const { format, dict } = stateDictOf(path, file.root);
    const bad = [...dict].filter(([, v]) => !(v instanceof TensorRef));
    if (bad.length)
      throw new Error(
        `${path}: ${bad.length} state-dict entries are not plain tensors (only torch's tensor rebuild functions are interpreted; nothing in a checkpoint is ever run):\n` +
          bad.map(([k, v]) => `  ${String(k)}: ${describePyValue(v)}`).join('\n'),
      );
    const reader = new TensorReader(file);
    const tensors = new Map<string, SafeTensor>();
    for (const [k, v] of dict) tensors.set(String(k), await reader.read(v as TensorRef));

    const metadata: Record<string, string> = {};
    const root = file.root;
    const epoch = get(root, 'epoch');
    const step = get(root, 'global_step');
    if (typeof epoch === 'number') metadata.epoch = String(epoch);
    if (typeof step === 'number') metadata.step = String(step);
    const version = get(root, 'pytorch-lightning_version');
    if (typeof version === 'string') metadata.lightning_version = version;

    let optimizerByIndex: Map<string, SafeTensor>[] | undefined;
    const entries = opts.optimizer ? optimizerEntries(root) : undefined;
    if (entries) {
      optimizerByIndex = [];
      for (const { state } of entries) {
        const moments = new Map<string, SafeTensor>();
        if (state instanceof PyDict)
          for (const [k, v] of state)
            if (v instanceof TensorRef) moments.set(String(k), await reader.read(v));
        optimizerByIndex.push(moments);
      }
    }
    const notes = [...reader.converted].map(
      ([dtype, n]) => `${n} ${dtype} tensor${n > 1 ? 's' : ''} converted to float32`,
    );
    return { format, tensors, metadata, optimizerByIndex, notes, ignoredGlobals: file.ignoredGlobals };
  } finally {
    file.archive.close();
  }
}
