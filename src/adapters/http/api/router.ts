import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Deps } from '../../../application/ports.js';
import { isDatabaseUnavailable } from '../../../infra/db/connection.js';
import { API_BODY_LIMIT, readBoundedBody } from '../body.js';
import { buildOpenApi } from './openapi.js';
import { API_ROUTES, ApiError, authorise, fieldErrors, type RouteDef } from './routes.js';

/** Who calls a public route: nobody in particular, with no scope. */
const PUBLIC = { tokenId: '', name: 'public', scopes: [], environments: [], createdBy: '' };

/** `/changes/{id}` → `/changes/:id` */
export const expressPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

function send(res: Response, err: ApiError) {
  if (err.status === 401) res.setHeader('www-authenticate', 'Bearer realm="changegate"');
  res
    .status(err.status)
    .json({ error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) });
}

function handle(deps: Deps, def: RouteDef) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const caller =
        def.scope === 'public' ? PUBLIC : await authorise(deps, req.headers.authorization, def.scope);
      const parse = (schema: RouteDef['params'], value: unknown, where: string) => {
        if (!schema) return undefined;
        const r = schema.safeParse(value ?? {});
        if (!r.success)
          throw new ApiError(
            400,
            'validation_failed',
            'The request is invalid; see fields.',
            fieldErrors(where, r.error),
          );
        return r.data;
      };
      if (def.body && !req.is('application/json')) {
        throw new ApiError(
          400,
          'validation_failed',
          'Send a JSON body with Content-Type: application/json.',
          [{ path: 'body', message: 'must be JSON' }],
        );
      }
      // Read only once the caller is known: an anonymous body is never buffered or parsed.
      const body = def.body ? await readJsonBody(req) : undefined;
      const result = await def.handler({
        deps,
        caller,
        params: parse(def.params, req.params, 'params'),
        query: parse(def.query, withoutEmpty(req.query), 'query'),
        headers: parse(def.headers, req.headers, 'headers'),
        body: parse(def.body, body, 'body'),
        res,
      });
      if (result) res.status(result.status).json(result.body);
    } catch (err) {
      if (err instanceof ApiError) return send(res, err);
      if (res.headersSent) {
        deps.logger.error('API response failed after it started', { component: 'api', path: req.path, err });
        res.destroy();
        return;
      }
      if (isDatabaseUnavailable(err))
        return send(
          res,
          new ApiError(503, 'unavailable', 'The database is not reachable right now; try again shortly.'),
        );
      next(err);
    }
  };
}

/** The versioned JSON API (pipelines, dashboards, auditors), mounted at /api/v1. */
export function apiRouter(deps: Deps): Router {
  const router = express.Router();
  const spec = buildOpenApi();
  router.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  for (const def of API_ROUTES) router[def.method](expressPath(def.path), handle(deps, def));
  router.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such API route; see /api/v1/openapi.json.' });
  });
  return router;
}

/** The request's JSON body (an object or an array), read within the API's limit. */
async function readJsonBody(req: Request): Promise<unknown> {
  const read = await readBoundedBody(req, API_BODY_LIMIT);
  if (!read.ok) {
    if (read.reason === 'too_large')
      throw new ApiError(
        413,
        'payload_too_large',
        `The request body is too large (at most ${API_BODY_LIMIT} bytes).`,
      );
    throw new ApiError(400, 'invalid_json', 'The request body did not arrive whole.');
  }
  try {
    const value: unknown = JSON.parse(read.body.toString('utf8'));
    if (value !== null && typeof value === 'object') return value;
  } catch {
    // answered below
  }
  throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
}

/** `?status=&since=` means no filter: an empty query parameter is treated as left out. */
function withoutEmpty(query: unknown): unknown {
  if (!query || typeof query !== 'object') return query;
  return Object.fromEntries(
    Object.entries(query).filter(([, v]) => !(typeof v === 'string' && v.trim() === '')),
  );
}
