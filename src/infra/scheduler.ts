import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type Job } from 'agenda';
import type { Db } from 'mongodb';
import type { Logger } from './logger.js';

export interface JobDefinition {
  name: string;
  /** Human interval ("1 minute") or cron; recurring jobs are created once, shared by all replicas. */
  every?: string;
  handler: (data: Record<string, unknown>) => Promise<void>;
  concurrency?: number;
}

/**
 * Agenda on the app's MongoDB (polling mode: change streams are unavailable on FerretDB and need a
 * replica set on MongoDB). Agenda's job locking is not atomic on FerretDB, so every job must be
 * idempotent on its own; this wrapper only schedules and runs.
 */
export class Scheduler {
  private readonly agenda: Agenda;
  private running = false;
  private readonly log: Logger;

  constructor(db: Db, logger: Logger, opts: { processEvery: string | number; name: string }) {
    this.log = logger.child({ component: 'scheduler' });
    this.agenda = new Agenda({
      backend: new MongoBackend({ mongo: db, collection: 'agenda_jobs' }),
      processEvery: opts.processEvery,
      name: opts.name,
      defaultLockLifetime: 5 * 60_000,
      maxConcurrency: 10,
    });
    // While the database is away Agenda fails on every poll; say so once per minute, not each time.
    let lastReported = 0;
    let suppressed = 0;
    this.agenda.on('error', (err) => {
      const now = Date.now();
      if (now - lastReported < 60_000) {
        suppressed++;
        return;
      }
      this.log.error('scheduler error', { err, suppressedSinceLast: suppressed });
      lastReported = now;
      suppressed = 0;
    });
    this.agenda.on('fail', (err: Error | string, job: { attrs?: { name?: string } }) =>
      this.log.error('job failed', { job: job.attrs?.name, err }),
    );
  }

  private definitions: JobDefinition[] = [];

  define(def: JobDefinition): void {
    this.definitions.push(def);
    this.agenda.define(
      def.name,
      async (job: Job<Record<string, unknown>>) => {
        await def.handler(job.attrs.data ?? {});
      },
      { concurrency: def.concurrency ?? 1 },
    );
  }

  async start(): Promise<void> {
    await this.agenda.start();
    for (const def of this.definitions) {
      if (def.every) await this.agenda.every(def.every, def.name, undefined, { skipImmediate: false });
    }
    this.running = true;
    this.log.info('scheduler started', { jobs: this.definitions.map((d) => d.name) });
  }

  /**
   * Takes no new job and waits (up to `timeoutMs`) for running ones, which see the app's stop
   * signal and wind down. A job still running then stays locked until its lock expires.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const result = await this.agenda.drain({ timeout: timeoutMs, closeConnection: false });
    if (result.timedOut) this.log.warn('jobs still running at stop', { running: result.running });
    this.log.info('scheduler stopped');
  }

  isRunning(): boolean {
    return this.running;
  }
}
