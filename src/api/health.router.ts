import { Router } from 'express';
import type { AppContext } from '../context';

const PING_TIMEOUT_MS = 1000;

async function ping(context: AppContext): Promise<{ connected: boolean; latencyMs: number | null }> {
  const pool = context.database.pool;
  if (!pool) return { connected: false, latencyMs: null };
  const started = Date.now();
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('ping timeout')), PING_TIMEOUT_MS).unref(),
      ),
    ]);
    return { connected: true, latencyMs: Date.now() - started };
  } catch {
    return { connected: false, latencyMs: null };
  }
}

/** `/health` always answers 200 (Render's check must not kill a starting instance); `/health/ready` gates traffic. */
export function healthRouter(context: AppContext): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const { database } = context;
    const connection = await ping(context);
    res.status(200).json({
      status: database.ready && connection.connected ? 'ok' : 'starting',
      database: {
        mode: database.mode,
        connected: connection.connected,
        migrated: database.migrated,
        latencyMs: connection.latencyMs,
        ...(database.startupError ? { error: database.startupError } : {}),
      },
      timestamp: new Date().toISOString(),
    });
  });
  router.get('/health/ready', async (_req, res) => {
    const connection = await ping(context);
    const ready = context.database.ready && connection.connected;
    res.status(ready ? 200 : 503).json({
      ready,
      database: { connected: connection.connected, migrated: context.database.migrated },
      timestamp: new Date().toISOString(),
    });
  });
  return router;
}
