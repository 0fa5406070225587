// The run kept in the browser (IndexedDB), so that a run in progress survives a reload: the
// text it trains on (its bytes, as read) and its latest checkpoint (the JSON text the CLI
// writes), replaced every few steps and on pause. One run is kept: the one on the page.

export interface KeptText { name: string; bytes: Uint8Array }
export interface KeptRun { text: KeptText; checkpoint: string; step: number; saved: string }

const DB = 'lstm-studio', STORE = 'kept', KEY = 'run';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB would not open'));
  });
}

async function transact<T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB refused the write (is the disk full?)'));
    });
  } finally {
    db.close();
  }
}

export async function readKept(): Promise<KeptRun | null> {
  try {
    const v = await transact<unknown>('readonly', (s) => s.get(KEY));
    const k = v as KeptRun | undefined;
    return k && typeof k.checkpoint === 'string' && k.text && k.text.bytes instanceof Uint8Array ? k : null;
  } catch {
    return null; // no IndexedDB (a private window may have none): nothing kept
  }
}

export async function keep(run: KeptRun): Promise<void> {
  await transact('readwrite', (s) => s.put(run, KEY));
}

export async function forget(): Promise<void> {
  try {
    await transact('readwrite', (s) => s.delete(KEY));
  } catch {
    // nothing to forget
  }
}
