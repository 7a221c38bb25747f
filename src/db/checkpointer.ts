// Checkpoints the SQLite WAL from a worker thread.
//
// SQLite's automatic checkpoint runs inside the commit that pushes the WAL past its threshold: it
// copies the WAL's pages into the database file and syncs it, on the event loop, every few MB
// written. Under load that is a stall of several milliseconds in the middle of accepting and
// delivering. A second connection may checkpoint concurrently with the writer (PASSIVE never
// blocks it), so a worker thread does it instead, and the WAL is recycled without the writer
// waiting. The writer keeps a far higher automatic threshold as a safety net should the worker die.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Checkpointer {
  close(): Promise<void>;
}

/** WAL pages (4 KiB) after which the writer checkpoints by itself, if the worker has not kept up. */
export const WRITER_AUTOCHECKPOINT_PAGES = 16_384;
const INTERVAL_MS = 50;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 100');
let stopping = false;
const tick = () => {
  if (stopping) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // busy or locked: the next tick tries again
  }
  setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  db.close();
  parentPort.close();
});
tick();
`;

export function startCheckpointer(path: string, onError: (error: Error) => void): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path, intervalMs: INTERVAL_MS } });
  worker.on('error', onError);
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      worker.postMessage('stop');
      // a referenced timer: the worker is unreferenced, and something must keep the loop alive meanwhile
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
