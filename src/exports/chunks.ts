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
 * Collects encoded output and stores it in chunks of about `chunkBytes`. Text is written straight into one of two
 * chunk buffers that take turns: one is stored while the other fills (the export keeps encoding meanwhile). No
 * per-batch Buffer and no concatenation, so an export's garbage is short-lived strings and memory stays flat
 * however big the file is.
 */
export class ChunkSink {
  private filling: Buffer;
  private spare: Buffer | null;
  private used = 0;
  private storing: Promise<void> | null = null;
  private rowsDone = 0;
  private readonly progress: ExportProgress = { rowsDone: 0, sizeBytes: 0, chunkCount: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly claim: ExportClaim,
    private readonly chunkBytes: number,
  ) {
    this.filling = Buffer.allocUnsafe(chunkBytes);
    this.spare = Buffer.allocUnsafe(chunkBytes);
  }

  /** Adds text; stores a chunk once enough has gathered. */
  async write(text: string, rowsDone: number): Promise<void> {
    if (text !== '') {
      const size = Buffer.byteLength(text, 'utf8');
      if (this.used + size > this.filling.length) this.grow(this.used + size);
      this.used += this.filling.write(text, this.used, 'utf8');
    }
    this.rowsDone = rowsDone;
    if (this.used >= this.chunkBytes) {
      await this.storing; // chunks are stored in order, one at a time
      this.storing = this.storeFilling();
      this.storing.catch(() => undefined); // awaited (and thrown) by the next write or finish
    }
  }

  /** Stores what is left; returns the totals of the file. */
  async finish(): Promise<ExportProgress> {
    await this.storing;
    if (this.used > 0) await this.storeFilling();
    return { ...this.progress, rowsDone: this.rowsDone };
  }

  /** A piece bigger than the room left: a bigger buffer, for this chunk only. */
  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, 2 * this.filling.length));
    this.filling.copy(bigger, 0, 0, this.used);
    this.filling = bigger;
  }

  private async storeFilling(): Promise<void> {
    const buffer = this.filling;
    const data = buffer.subarray(0, this.used);
    this.filling = this.spare ?? Buffer.allocUnsafe(this.chunkBytes);
    this.spare = null;
    this.used = 0;
    this.progress.rowsDone = this.rowsDone;
    const seq = this.progress.chunkCount;
    const progress = {
      rowsDone: this.progress.rowsDone,
      sizeBytes: this.progress.sizeBytes + data.length,
      chunkCount: seq + 1,
    };
    if (!(await storeChunk(this.pool, this.claim, seq, data, progress))) throw new ClaimLostError();
    Object.assign(this.progress, progress);
    // The statement has been sent and answered, so the buffer is free again (an oversized one is let go).
    if (buffer.length === this.chunkBytes) this.spare = buffer;
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
