import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../infra/logger.js';
import { boundRequestBodies, PUBLIC_BODY_LIMITS } from './body.js';

/** The one HTTP server: Slack's request URL (HTTP mode), health probes, and the /api/v1 routes. */
export function createHttpApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(boundRequestBodies(PUBLIC_BODY_LIMITS));
  return app;
}

/** Last handlers: JSON 404 and a JSON error without stack traces (never HTML, never a stack). */
export function finishHttpApp(app: Express, logger: Logger): void {
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'No such route.' });
  });
  app.use(
    (
      err: Error & { status?: number; statusCode?: number },
      req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      const status = err.status ?? err.statusCode ?? 500;
      if (status >= 500) logger.error('unhandled HTTP error', { component: 'http', path: req.path, err });
      if (res.headersSent) return;
      if (status < 500) {
        res.status(status).json({ error: 'bad_request', message: err.message });
      } else {
        res
          .status(500)
          .json({ error: 'internal', message: 'Something went wrong on our side; please try again.' });
      }
    },
  );
}

export interface RunningHttpServer {
  server: Server;
  port: number;
  /** Stops accepting connections and waits for open requests to finish (idle keep-alives are closed). */
  close(): Promise<void>;
}

export async function listen(app: Express, port: number, host: string): Promise<RunningHttpServer> {
  const server = createServer(app);
  // Idle connections stay open longer than a load balancer's idle timeout (60 s on AWS ALB): if
  // the app closed first, the balancer could send a request into a closing socket (a 502).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // A request (headers and body) must arrive within 30 s: a client dribbling a body byte by byte
  // does not hold a connection for Node's default five minutes.
  server.requestTimeout = 30_000;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      res();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      }),
  };
}
