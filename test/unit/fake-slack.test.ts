import { ErrorCode, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../support/fake-slack/server.js';

/** The fake Slack Web API must reject what Slack rejects, in Slack's error format. */
describe('fake Slack Web API', () => {
  let fake: FakeSlack;
  let client: WebClient;

  beforeAll(async () => {
    fake = await new FakeSlack().start();
    client = new WebClient('xoxb-test-token', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(() => fake.stop());

  const platformError = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      const e = err as { code?: string; data?: Record<string, unknown> };
      expect(e.code).toBe(ErrorCode.PlatformError);
      return e.data!;
    }
    throw new Error('expected the call to fail');
  };

  it('answers auth.test like Slack', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: 'T0001ABCD', user_id: 'U0BOTUSER', bot_id: 'B0123BOTID' });
  });

  it('rejects a call without a token (not_authed) and a wrong token (invalid_auth)', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    expect(
      (await platformError(anonymous.chat.postMessage({ channel: 'C0123CHG01', text: 'hi' }))).error,
    ).toBe('not_authed');
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    expect((await platformError(wrong.auth.test())).error).toBe('invalid_auth');
  });

  it('rejects a modal whose title is over 24 characters', async () => {
    const trigger = fake.issueTrigger();
    const data = await platformError(
      client.views.open({
        trigger_id: trigger,
        view: {
          type: 'modal',
          title: { type: 'plain_text', text: 'A title that is far too long' },
          blocks: [],
        },
      }),
    );
    expect(data.error).toBe('invalid_arguments');
    expect((data.response_metadata as { messages: string[] }).messages).toContain(
      '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]',
    );
  });

  it('rejects more than 50 blocks in a message with invalid_blocks', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => ({
      type: 'section' as const,
      text: { type: 'mrkdwn' as const, text: `line ${i}` },
    }));
    const data = await platformError(
      client.chat.postMessage({ channel: 'C0123CHG01', text: 'many', blocks }),
    );
    expect(data.error).toBe('invalid_blocks');
    expect(data.errors).toContain('no more than 50 items allowed [json-pointer:/blocks]');
  });

  it('accepts exactly 50 blocks, and modal inputs only with a submit button', async () => {
    const blocks = Array.from({ length: 50 }, (_, i) => ({
      type: 'section' as const,
      text: { type: 'mrkdwn' as const, text: `line ${i}` },
    }));
    await expect(
      client.chat.postMessage({ channel: 'C0123CHG01', text: 'ok', blocks }),
    ).resolves.toMatchObject({ ok: true });
    const data = await platformError(
      client.views.open({
        trigger_id: fake.issueTrigger(),
        view: {
          type: 'modal',
          title: { type: 'plain_text', text: 'Form' },
          blocks: [
            {
              type: 'input',
              block_id: 'a',
              label: { type: 'plain_text', text: 'A' },
              element: { type: 'plain_text_input', action_id: 'v' },
            },
          ],
        },
      }),
    );
    expect((data.response_metadata as { messages: string[] }).messages[0]).toContain(
      'must define `submit` to use an `input` block in modals',
    );
  });

  it('enforces trigger ids: one use, three seconds', async () => {
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Hi' }, blocks: [] };
    const trigger = fake.issueTrigger();
    await client.views.open({ trigger_id: trigger, view });
    expect((await platformError(client.views.open({ trigger_id: trigger, view }))).error).toBe(
      'exchanged_trigger_id',
    );
    expect((await platformError(client.views.open({ trigger_id: '1.2.abc', view }))).error).toBe(
      'invalid_trigger_id',
    );
  });

  it('rejects chat.update of an unknown message and over-long fields', async () => {
    expect(
      (await platformError(client.chat.update({ channel: 'C0123CHG01', ts: '1.000000', text: 'x' }))).error,
    ).toBe('message_not_found');
    const long = await platformError(
      client.chat.postMessage({
        channel: 'C0123CHG01',
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      }),
    );
    expect(long.errors).toContain('must be less than 151 characters [json-pointer:/blocks/0/text/text]');
  });

  it('answers 429 with Retry-After when a rate limit is set', async () => {
    fake.setRateLimit('users.info', 1, 60_000, 1);
    fake.addUser('U0123ALICE');
    const limited = new WebClient('xoxb-test-token', {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    await limited.users.info({ user: 'U0123ALICE' });
    await expect(limited.users.info({ user: 'U0123ALICE' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 1,
    });
    fake.clearRateLimits();
  });

  it('reads a JSON body only for the methods Slack takes one for', async () => {
    fake.addUser('U0JSONBODY');
    const call = (method: string, args: Record<string, unknown>) =>
      fetch(`${fake.apiUrl}${method}`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer xoxb-test-token',
          'content-type': 'application/json; charset=utf-8',
        },
        body: JSON.stringify(args),
      }).then((r) => r.json() as Promise<{ ok: boolean; error?: string }>);
    expect(await call('chat.postMessage', { channel: 'C0123CHG01', text: 'as JSON' })).toMatchObject({
      ok: true,
    });
    // users.info reads form or query arguments only: the user asked for in JSON is not seen.
    expect(await call('users.info', { user: 'U0JSONBODY' })).toEqual({ ok: false, error: 'user_not_found' });
    expect((await client.users.info({ user: 'U0JSONBODY' })).ok).toBe(true);
  });
});
