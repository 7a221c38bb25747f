// One commit for every hot-path write that is ready at the same moment.
//
// On SQLite with synchronous=FULL each commit is an fsync, and better-sqlite3 runs it on the event
// loop: while it lasts nothing else in the process moves. Accepting events, claiming
// deliveries and recording attempts used to commit on their own, so under mixed load the process
// spent most of its time waiting on the disk and fell behind. Here every unit queued before the
// group starts, and every unit queued while it runs (a claim of the deliveries an accepted event
// just created), shares one transaction and one fsync. Each unit runs inside its own savepoint, so
// one that fails is undone and rejected alone; none is told it succeeded before the commit is
// durable. No library does this for better-sqlite3 (it is synchronous by design), hence by hand.
//
// The fsync itself runs off the event loop: the group commits with synchronous=NORMAL (SQLite writes
// the WAL frames, no sync) and then fsyncs the WAL file on libuv's thread pool; only then do the
// units resolve and their `committed` callbacks run (a unit's `written` callback runs meanwhile, for
// work that needs its rows but not their durability). That is synchronous=FULL's guarantee for
// every acknowledged write (fsync flushes all of the file written so far, frames and header), while
// the event loop serves requests during the sync instead of standing still for each commit.
// Units queued meanwhile form the next group, which commits once this sync is done. Writes outside
// the group commit (Kysely transactions of mutations) keep synchronous=FULL. Even idle the sync
// runs on the pool: measured, the first byte of a delivery then arrives sooner than with an
// inline fsync, though the sender's answer comes a little later (bench/README.md).
//
// PostgreSQL keeps a transaction per unit: its commits do not block the event loop, a pool runs
// them side by side, and holding row locks of unrelated work for one another would only add waits.
import { closeSync, fsync, openSync } from 'node:fs';
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database, Executor } from './schema.js';
import { holdConnection, releaseConnection } from './statement.js';

export type WriteUnit<T> = (db: Executor) => Promise<T>;

export interface GroupCommit {
  /**
   * Runs `work` in a transaction shared with the other units of its group; resolves after the commit.
   * `committed` runs right after the commit, before any unit's promise resolves, in the order the
   * units ran: what they publish reaches subscribers in commit order. A unit must not await another
   * unit (it would wait for its own group's commit).
   */
  run<T>(work: WriteUnit<T>, committed?: (value: T) => void, options?: RunOptions<T>): Promise<T>;
  /** Whether a group is open right now: a unit queued now joins it (and its commit). */
  readonly open: boolean;
  /** commits and units so far (the bench reports units per commit) */
  stats(): { commits: number; units: number };
  /** Calls `listener` after each commit with how long it took until durable and how many units it carried (metrics). */
  observeCommits(listener: (durationMs: number, units: number) => void): void;
  /** Releases the WAL file handle; call once the groups are done, before the database closes. */
  close(): void;
}

export interface GroupCommitOptions {
  reportCommittedError?: (error: unknown) => void;
  /** fsync of the WAL file off the event loop (default: node:fs fsync; tests inject failures) */
  fsyncWal?: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
  /** the store's query log, for the statements units run directly on the held connection */
  onQuery?: (sql: string) => void;
}

export interface RunOptions<T> {
  /**
   * How long this unit may wait for others to share its commit (default 0: the next turn of the
   * event loop). A unit that may not wait (a claim, an accepted event) takes waiting ones along.
   */
  mayWaitMs?: number;
  /**
   * Runs once the transaction has committed, while its fsync is under way (before `committed`),
   * for work that needs what the unit wrote but not its durability: the dispatcher builds the
   * requests of the deliveries it leased, and sends them once the unit's promise resolves.
   */
  written?: (value: T) => void;
}

interface Queued {
  work: WriteUnit<unknown>;
  committed: ((value: unknown) => void) | undefined;
  written: ((value: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Enough to amortise the fsync, few enough that one group does not hold the writer for long. */
const MAX_UNITS_PER_GROUP = 256;

export function createGroupCommit(db: Kysely<Database>, sqlite: SQLite.Database | null, options: GroupCommitOptions = {}): GroupCommit {
  const reportCommittedError = options.reportCommittedError ?? ((error: unknown) => console.error('after commit:', error));
  const fsyncWal = options.fsyncWal ?? fsync;
  let pgListener: ((durationMs: number, units: number) => void) | null = null;
  if (!sqlite) {
    return {
      run: async (work, committed, options) => {
        const started = performance.now();
        const value = await db.transaction().execute((trx) => work(trx));
        pgListener?.(performance.now() - started, 1);
        options?.written?.(value);
        committed?.(value);
        return value;
      },
      open: false,
      stats: () => ({ commits: 0, units: 0 }),
      observeCommits(listener) {
        pgListener = listener;
      },
      close: () => {},
    };
  }
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const rollback = sqlite.prepare('rollback');
  const savepoint = sqlite.prepare('savepoint unit');
  const release = sqlite.prepare('release unit');
  const rollbackTo = sqlite.prepare('rollback to unit');
  // Not prepared statements: SQLite applies `pragma synchronous = …` while preparing it, so a
  // prepared one takes effect when it is (re)prepared, not when it runs.
  const syncNormal = () => sqlite.exec('pragma synchronous = normal');
  const syncFull = () => sqlite.exec('pragma synchronous = full');
  // The WAL file exists from the first commit on and keeps its inode while the database is open
  // (a checkpoint rewinds it, it is not replaced); in-memory databases and other journal modes
  // have none to sync, and commit as they are configured.
  const walPath = !sqlite.memory && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal' ? `${sqlite.name}-wal` : null;
  let walFd: number | null = null;
  const openWal = (): number | null => {
    if (walPath === null) return null;
    try {
      // read-write although nothing is written through it: Windows flushes only handles opened for writing
      walFd ??= openSync(walPath, 'r+');
    } catch {
      return null; // not there (yet): this commit syncs as configured
    }
    return walFd;
  };
  let queue: Queued[] = [];
  let scheduled = false;
  let flushing = false;
  let open = false;
  let commits = 0;
  let units = 0;
  let lastCommitEnd = -Infinity;
  let lastCommitMs = 0;
  let commitListener: ((durationMs: number, units: number) => void) | null = null;

  const runAll = (settled: readonly { unit: Queued; ok: boolean; value: unknown }[], callback: 'written' | 'committed') => {
    for (const { unit, ok, value } of settled) {
      const call = unit[callback];
      if (!ok || !call) continue;
      try {
        call(value);
      } catch (error) {
        // best effort (publishing, preparing requests); the write stands either way
        reportCommittedError(error);
      }
    }
  };

  const flush = async () => {
    // Kysely's SQLite driver guards its one connection with a mutex: holding it keeps other
    // Kysely transactions (mutations, retention) from interleaving with this group.
    await db.connection().execute(async (connection) => {
      holdConnection(connection, { database: sqlite, onQuery: options.onQuery });
      try {
        flushing = true;
        while (queue.length > 0) {
          const settled: { unit: Queued; ok: boolean; value: unknown }[] = [];
          let current: Queued | null = null;
          open = true;
          // SQLite refuses to change the safety level inside a transaction: NORMAL for this group's
          // commit is set before it begins, FULL again the moment it has committed or rolled back.
          const fd = openWal();
          const groupStarted = performance.now();
          let normal = false;
          try {
            if (fd !== null) {
              syncNormal();
              normal = true;
            }
            begin.run();
            while (queue.length > 0 && settled.length < MAX_UNITS_PER_GROUP) {
              const unit = queue.shift()!;
              current = unit;
              savepoint.run();
              try {
                const value = await unit.work(connection);
                release.run();
                settled.push({ unit, ok: true, value });
              } catch (error) {
                // Some errors (disk full, I/O) end the whole transaction; then the group fails.
                if (!sqlite.inTransaction) throw error;
                rollbackTo.run();
                release.run();
                settled.push({ unit, ok: false, value: error });
              }
              current = null;
            }
            const syncing = performance.now();
            commit.run();
            if (normal) {
              syncFull();
              normal = false;
            }
            lastCommitEnd = performance.now();
            lastCommitMs = lastCommitEnd - syncing;
            commits++;
            units += settled.length;
            open = false;
            const synced = fd === null ? null : new Promise<void>((resolve, reject) => fsyncWal(fd, (error) => (error ? reject(error) : resolve())));
            runAll(settled, 'written');
            if (synced) await synced;
            commitListener?.(performance.now() - groupStarted, settled.length);
          } catch (error) {
            open = false;
            if (sqlite.inTransaction) rollback.run();
            if (normal) syncFull();
            for (const { unit } of settled) unit.reject(error);
            current?.reject(error);
            continue;
          } finally {
            open = false;
          }
          runAll(settled, 'committed');
          for (const { unit, ok, value } of settled) (ok ? unit.resolve : unit.reject)(value);
        }
        flushing = false;
      } finally {
        // a unit that kept its executor past its group runs further statements through Kysely
        releaseConnection(connection);
      }
    });
  };

  let timer: NodeJS.Timeout | null = null;
  const start = () => {
    scheduled = false;
    if (timer) clearTimeout(timer);
    timer = null;
    flush().catch((error: unknown) => {
      flushing = false;
      const failed = queue;
      queue = [];
      for (const unit of failed) unit.reject(error);
    });
  };
  const schedule = (mayWaitMs: number) => {
    // an open group takes the unit; a scheduled one will, and so does a group still syncing (its loop goes on)
    if (scheduled || open || flushing) return;
    if (mayWaitMs > 0) {
      timer ??= setTimeout(start, mayWaitMs);
      return;
    }
    scheduled = true;
    // Back to back with the last commit (under load), wait as long as that commit took on this
    // thread (long when it ran a checkpoint): the process then spends at most half its time
    // committing, and the wait fills the next group. After a pause, setImmediate: only the writes
    // of this turn of the event loop join, and nobody waits.
    const wait = lastCommitEnd + lastCommitMs - performance.now();
    if (timer) clearTimeout(timer);
    timer = null;
    if (wait >= 0.5) timer = setTimeout(start, wait);
    else setImmediate(start);
  };

  return {
    run<T>(work: WriteUnit<T>, committed?: (value: T) => void, options?: RunOptions<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          work,
          committed: committed as ((value: unknown) => void) | undefined,
          written: options?.written as ((value: unknown) => void) | undefined,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        schedule(options?.mayWaitMs ?? 0);
      });
    },
    get open() {
      return open;
    },
    stats: () => ({ commits, units }),
    observeCommits(listener) {
      commitListener = listener;
    },
    close() {
      if (walFd !== null) closeSync(walFd);
      walFd = null;
    },
  };
}
