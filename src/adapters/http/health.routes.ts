import { type Router as ExpressRouter, Router } from 'express';

export interface ReadinessProbe {
  database(): Promise<boolean>;
  scheduler(): boolean;
  /** Socket Mode: whether the connection to Slack is open (null in HTTP mode, where Slack calls in). */
  slack?(): boolean | null;
}

/** GET /healthz: the process is alive. GET /readyz: the database answers and the scheduler runs (503 otherwise). */
export function healthRoutes(probe: ReadinessProbe): ExpressRouter {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, scheduler, slack] = [await probe.database(), probe.scheduler(), probe.slack?.() ?? null];
    const ready = database && scheduler && slack !== false;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      checks: {
        database: database ? 'ok' : 'unreachable',
        scheduler: scheduler ? 'running' : 'stopped',
        ...(slack === null ? {} : { slack: slack ? 'connected' : 'not_connected' }),
      },
    });
  });
  return router;
}
