import type { Writable } from 'node:stream';
import { once } from 'node:events';
import type { Pool } from '../db/pool';
import type { ExportProgress } from './jobs';
import { storeChunk } from './jobs';
import type { ExportClaim } from './types';

/** Thrown when another worker has taken the job over (or it was deleted): this attempt's output is void. */
export class ClaimLostError extends Error {
  constructor() {
    super('the export job was claimed by another worker');
  }
}

/**
 * Collects encoded output and stores it in chunks of about `chunkBytes`. One chunk is stored while the next one
 * gathers (the export keeps encoding meanwhile), so at most two chunks (plus one batch of rows) are ever held in
 * memory.
 */
export class ChunkSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private storing: Promise<void> | null = null;
  private rowsDone = 0;
  private readonly progress: ExportProgress = { rowsDone: 0, sizeBytes: 0, chunkCount: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly claim: ExportClaim,
    private readonly chunkBytes: number,
  ) {}

  /** Adds text; stores a chunk once enough has gathered. */
  async write(text: string, rowsDone: number): Promise<void> {
    if (text !== '') {
      const bytes = Buffer.from(text, 'utf8');
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
    }
    this.rowsDone = rowsDone;
    if (this.pendingBytes >= this.chunkBytes) {
      await this.storing; // chunks are stored in order, one at a time
      this.storing = this.flush();
      this.storing.catch(() => undefined); // awaited (and thrown) by the next write or finish
    }
  }

  /** Stores what is left; returns the totals of the file. */
  async finish(): Promise<ExportProgress> {
    await this.storing;
    if (this.pendingBytes > 0) await this.flush();
    return { ...this.progress, rowsDone: this.rowsDone };
  }

  private async flush(): Promise<void> {
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.progress.rowsDone = this.rowsDone;
    const seq = this.progress.chunkCount;
    const progress = {
      rowsDone: this.progress.rowsDone,
      sizeBytes: this.progress.sizeBytes + data.length,
      chunkCount: seq + 1,
    };
    if (!(await storeChunk(this.pool, this.claim, seq, data, progress))) throw new ClaimLostError();
    Object.assign(this.progress, progress);
  }
}

/**
 * Writes the stored chunks of a completed attempt to `out` in order, one chunk in memory at a time, waiting for
 * the client to drain each. Resolves false if a chunk is missing (the job expired and was deleted mid-download).
 */
export async function pipeChunks(
  pool: Pool,
  job: { id: string; attempt: number; chunkCount: number },
  out: Writable,
): Promise<boolean> {
  for (let seq = 0; seq < job.chunkCount; seq += 1) {
    if (out.destroyed) return true;
    const { rows } = await pool.query<{ data: Buffer }>(
      'SELECT data FROM export_chunks WHERE job_id = $1 AND attempt = $2 AND seq = $3',
      [job.id, job.attempt, seq],
    );
    const chunk = rows[0];
    if (!chunk) return false;
    if (!out.write(chunk.data)) await drainedOrClosed(out);
  }
  return true;
}

async function drainedOrClosed(out: Writable): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([
      once(out, 'drain', { signal: done.signal }),
      once(out, 'close', { signal: done.signal }),
    ]);
  } finally {
    done.abort(); // removes the listener that did not fire
  }
}
