import { API_SCOPES, type ApiScope, type ApiToken, type TokenStore } from '../../application/ports.js';
import { insertOnce, retryTransient } from './connection.js';
import type { ApiTokenDoc, Models } from './models.js';

function toToken(d: ApiTokenDoc): ApiToken {
  return {
    id: d._id,
    name: d.name,
    secretHash: d.secretHash,
    scopes: d.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s)),
    environments: d.environments ?? null,
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    revokedAt: d.revokedAt ?? null,
    revokedBy: d.revokedBy ?? null,
    lastUsedAt: d.lastUsedAt ?? null,
  };
}

/** Pipeline tokens in the `api_tokens` collection; an active name is unique (unique index). */
export class MongoTokenStore implements TokenStore {
  constructor(private readonly m: Models) {}

  async create(t: ApiToken): Promise<'created' | 'name_taken'> {
    const created = await insertOnce(this.m.ApiToken, {
      _id: t.id,
      name: t.name,
      secretHash: t.secretHash,
      scopes: t.scopes,
      environments: t.environments,
      createdBy: t.createdBy,
      createdAt: t.createdAt,
      revokedAt: t.revokedAt,
      revokedBy: t.revokedBy,
      lastUsedAt: t.lastUsedAt,
    });
    return created ? 'created' : 'name_taken';
  }

  async list(): Promise<ApiToken[]> {
    return (await this.m.ApiToken.find({}).sort({ createdAt: 1 }).lean<ApiTokenDoc[]>()).map(toToken);
  }

  async byId(id: string): Promise<ApiToken | null> {
    const d = await this.m.ApiToken.findById(id).lean<ApiTokenDoc>();
    return d ? toToken(d) : null;
  }

  async activeByName(name: string): Promise<ApiToken | null> {
    const d = await this.m.ApiToken.findOne({ name, revokedAt: null }).lean<ApiTokenDoc>();
    return d ? toToken(d) : null;
  }

  async revoke(id: string, by: string, at: Date, freedName: string): Promise<void> {
    await retryTransient(() =>
      this.m.ApiToken.updateOne({ _id: id }, { $set: { revokedAt: at, revokedBy: by, name: freedName } }),
    );
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.m.ApiToken.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
  }
}
