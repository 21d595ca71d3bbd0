/**
 * A fake Slack Web API in its own process, for the benchmark's side-by-side cases: the server
 * measured and its Slack never share a process with the load. Reads the trigger ids it will see from
 * the file named by its argument, prints "READY <api url>", and on SIGTERM prints how its views.open
 * calls went ({ opened, failed }) before it exits.
 */
import { readFileSync } from 'node:fs';
import { FakeSlack } from '../test/support/fake-slack/server.js';
import { ALL_PEOPLE } from '../test/support/people.js';

const fake = await new FakeSlack().start();
for (const u of ALL_PEOPLE) fake.addUser(u, { tz: 'America/Los_Angeles' });
fake.triggerLifetimeMs = 3_600_000; // signed ahead of the run: latency is measured from the send
fake.acceptTriggers(JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as string[]);
process.stdout.write(`READY ${fake.apiUrl}\n`);
process.on('SIGTERM', () => {
  const opens = fake.calls.filter((c) => c.method === 'views.open');
  process.stdout.write(
    `${JSON.stringify({ opened: opens.filter((c) => c.response.ok).length, failed: opens.filter((c) => !c.response.ok).length })}\n`,
  );
  process.exit(0);
});
