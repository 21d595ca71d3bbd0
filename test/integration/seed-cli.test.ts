import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import mongoose from 'mongoose';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dropDatabase } from '../support/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm run seed` refuses to mix a generated history into a database that already has one. */
describe('npm run seed', () => {
  const dbName = `seedcli${process.pid}`;
  const uri = `${inject('mongo').uri.replace(/\/?$/, '/')}${dbName}`;
  afterAll(() => dropDatabase(inject('mongo').uri, dbName));

  const seed = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/seed.ts', '--uri', uri, '--changes', '3', ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        timeout: 120_000,
      },
    );

  it('seeds an empty database, then says a second run would mix histories and suggests --drop', async () => {
    const first = seed();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('Seeded 3 changes');
    const again = seed();
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`The database "${dbName}" already holds 3 change records`);
    expect(again.stderr).toContain('--drop');
    expect(again.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const dropped = seed('--drop');
    expect(dropped.status, dropped.stderr).toBe(0);
    const conn = await mongoose.createConnection(uri).asPromise();
    expect(await conn.collection('changes').countDocuments()).toBe(3);
    await conn.close();
  });
});
