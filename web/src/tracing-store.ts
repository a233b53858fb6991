// The page's tracing session, kept in IndexedDB so it survives a reload: one record per video
// (its name, frame size, rate and count, split, ED/ES tracings in the video's own pixels) plus the
// video's frames as the loaded model takes them, which fine-tuning trains on without the video.
import type { TracedVideoRecord } from '../../src/data/tracing-sets.js';
import type { Rect } from '../../src/data/resample.js';

export interface StoredVideo extends TracedVideoRecord {
  /** The frames mapped to a model's input (count x size x size x 3), and the native rectangle that became it. */
  model?: { size: number; frames: Uint8Array; rect: Rect; mode: 'identity' | 'sector' | 'resize' };
}

const DB = 'unilvseg-tracings';
const STORE = 'videos';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'name' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`IndexedDB ${DB}: ${req.error?.message ?? 'cannot open'}`));
  });
}

async function withStore<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(new Error(`IndexedDB ${DB}: ${tx.error?.message ?? 'transaction failed'}`));
    });
  } finally {
    db.close();
  }
}

export const tracingStore = {
  all: () => withStore<StoredVideo[]>('readonly', (s) => s.getAll() as IDBRequest<StoredVideo[]>),
  get: (name: string) =>
    withStore<StoredVideo | undefined>('readonly', (s) => s.get(name) as IDBRequest<StoredVideo | undefined>),
  put: (v: StoredVideo) => withStore('readwrite', (s) => s.put(v)),
  remove: (name: string) => withStore('readwrite', (s) => s.delete(name)),
  clear: () => withStore('readwrite', (s) => s.clear()),
};
