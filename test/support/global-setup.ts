import type { TestProject } from 'vitest/node';
import { acquireDatabase } from './database.js';

/**
 * Chooses the database for the whole run (see acquireDatabase), probes it once and hands the tests
 * a capability record (`inject('mongo')`): MongoDB or FerretDB, version, replica set or not.
 */
export default async function setup(project: TestProject) {
  const db = await acquireDatabase();
  process.stdout.write(
    `\n[changegate tests] database: ${db.mongo.flavor} ${db.mongo.version} via ${db.source}\n`,
  );
  project.provide('mongo', db.mongo);
  return () => db.stop();
}
