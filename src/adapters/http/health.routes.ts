import { type Router as ExpressRouter, Router } from 'express';

export interface ReadinessProbe {
  database(): Promise<boolean>;
  scheduler(): boolean;
}

/** GET /healthz: the process is alive. GET /readyz: the database answers and the scheduler runs (503 otherwise). */
export function healthRoutes(probe: ReadinessProbe): ExpressRouter {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, scheduler] = [await probe.database(), probe.scheduler()];
    const ready = database && scheduler;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      checks: { database: database ? 'ok' : 'unreachable', scheduler: scheduler ? 'running' : 'stopped' },
    });
  });
  return router;
}
