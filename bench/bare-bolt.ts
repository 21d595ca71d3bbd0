/**
 * The baseline for the acknowledgement benchmark: a bare Bolt app (same Bolt version, same
 * ExpressReceiver and signature check) that only acks. Prints "READY <port>".
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
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});
app.command(/.*/, async ({ ack }) => {
  await ack();
});
const server = await receiver.start(0);
const address = server.address();
process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => process.exit(0));
