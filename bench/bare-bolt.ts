/**
 * The baseline for the acknowledgement benchmarks: a bare Bolt app (same Bolt version, same
 * ExpressReceiver and signature check) that acks, and for a slash command then opens a trivial modal
 * through SLACK_API_URL (when set), as `/change` opens its form. Prints "READY <port>".
 */
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import express from 'express';

const receiver = new ExpressReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET!,
  endpoints: '/slack/events',
  app: express(),
  logLevel: LogLevel.ERROR,
});
const app = new App({
  receiver,
  authorize: async () => ({
    botToken: 'xoxb-test-token',
    botId: 'B0123BOTID',
    botUserId: 'U0BOTUSER',
    teamId: 'T0001ABCD',
  }),
  logLevel: LogLevel.ERROR,
  ...(process.env.SLACK_API_URL ? { clientOptions: { slackApiUrl: process.env.SLACK_API_URL } } : {}),
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});
app.command(/.*/, async ({ ack, client, command }) => {
  await ack();
  if (!process.env.SLACK_API_URL) return;
  await client.views.open({
    trigger_id: command.trigger_id,
    view: {
      type: 'modal',
      title: { type: 'plain_text', text: 'Change' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'A trivial modal.' } }],
    },
  });
});
const server = await receiver.start(0);
const address = server.address();
process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => process.exit(0));
