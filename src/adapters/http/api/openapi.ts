import { z } from 'zod';
import { API_SCOPES } from '../../../application/ports.js';
import { API_ROUTES } from './routes.js';

type JsonObject = Record<string, unknown>;

const componentUri = (id: string) => `#/components/schemas/${id}`;

/**
 * zod → JSON Schema options. `unrepresentable: 'any'` is zod's option name, not a TypeScript
 * `any`: a zod type JSON Schema cannot express (a transform's output, say) becomes `{}` in the
 * document instead of throwing while the spec is built.
 */
const JSON_SCHEMA = { target: 'openapi-3.0', unrepresentable: 'any' } as const;

/** JSON Schema (OpenAPI 3.0 dialect) of an unnamed zod schema (parameters). */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  return z.toJSONSchema(schema, { ...JSON_SCHEMA, io }) as JsonObject;
}

const idOf = (schema: z.ZodType) => z.globalRegistry.get(schema)?.id;

/** A named schema as a $ref to its component, an unnamed one inline. */
function refOrInline(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const id = idOf(schema);
  return id ? { $ref: componentUri(id) } : schemaOf(schema, io);
}

/** Every named schema (`.meta({ id })`) as a component: request bodies as written, responses as sent. */
function components(bodyIds: Set<string>): Record<string, JsonObject> {
  const convert = (io: 'input' | 'output') =>
    (
      z.toJSONSchema(z.globalRegistry, { ...JSON_SCHEMA, io, uri: componentUri }) as {
        schemas: Record<string, JsonObject>;
      }
    ).schemas;
  const inputs = convert('input');
  const outputs = convert('output');
  return Object.fromEntries(
    Object.keys(outputs).map((id) => {
      const { $id: _ignored, ...schema } = (bodyIds.has(id) ? inputs[id] : outputs[id]) ?? {};
      return [id, schema];
    }),
  );
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): JsonObject[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop as { description?: string };
    return {
      name:
        where === 'header'
          ? name.replace(/(^|-)(\w)/g, (_m, d: string, c: string) => `${d}${c.toUpperCase()}`)
          : name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/**
 * The OpenAPI 3.0 document, generated from the same route table and zod schemas that the router
 * validates with, so the document and the routes cannot drift apart.
 */
export function buildOpenApi(): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const r of API_ROUTES) {
    const responses: Record<string, JsonObject> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      if (res.content === 'csv-or-json') {
        responses[status] = {
          description: res.description,
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/json': { schema: { type: 'array', items: { type: 'object' } } },
          },
        };
      } else {
        responses[status] = {
          description: res.description,
          ...(res.schema
            ? { content: { 'application/json': { schema: refOrInline(res.schema, 'output') } } }
            : {}),
        };
      }
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.scope === 'public'
        ? { security: [] }
        : { security: [{ bearer: [] }], 'x-required-scope': r.scope }),
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...parameters(r.headers, 'header'),
      ],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: refOrInline(r.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Changegate API',
      version: '1.0.0',
      description: `Deployment gate and change records for CI/CD pipelines. Authenticate with a pipeline token (\`/change token create <name>\` in Slack): \`Authorization: Bearer <token>\`. Scopes: ${API_SCOPES.join(', ')}.`,
    },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas: components(
        new Set(API_ROUTES.flatMap((r) => (r.body && idOf(r.body) ? [idOf(r.body)!] : []))),
      ),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A Changegate pipeline token (cg_…)' },
      },
    },
    paths,
  };
}
