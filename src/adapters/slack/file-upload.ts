import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { SlackSender } from '../../infra/slack/sender.js';

/**
 * Sends a file to a person in a DM with Slack's external upload flow: a "preparing" message opens the
 * DM (its reply carries the DM channel id), files.getUploadURLExternal, the bytes,
 * files.completeUploadExternal; only once the file is shared does the message say it is there. A
 * failed upload turns the message into the failure, never a claim of a file that is not there.
 */
export async function uploadFileToUser(
  sender: SlackSender,
  userId: string,
  file: { path: string; filename: string; title: string; preparing: string; message: string },
): Promise<{ fileId: string }> {
  const intro = await sender.call<{ channel: string; ts: string }>('chat.postMessage', {
    channel: userId,
    text: file.preparing,
  });
  try {
    const shared = await share(sender, intro, file);
    await sender.call('chat.update', { channel: intro.channel, ts: intro.ts, text: file.message });
    return shared;
  } catch (err) {
    await sender
      .call('chat.update', {
        channel: intro.channel,
        ts: intro.ts,
        text: `⚠️ ${file.title} could not be shared: ${(err as Error).message}. Try again in a moment.`,
      })
      .catch(() => undefined);
    throw err;
  }
}

async function share(
  sender: SlackSender,
  intro: { channel: string; ts: string },
  file: { path: string; filename: string; title: string },
): Promise<{ fileId: string }> {
  const { size } = await stat(file.path);
  const target = await sender.call<{ upload_url: string; file_id: string }>('files.getUploadURLExternal', {
    filename: file.filename,
    length: Math.max(1, size),
  });
  // Streamed, so a large export is never held in memory.
  const init: RequestInit & { duplex: 'half' } = {
    method: 'POST',
    body: Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>,
    duplex: 'half',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
  };
  const res = await fetch(target.upload_url, init);
  if (!res.ok) throw new Error(`file upload failed with HTTP ${res.status}`);
  await sender.call('files.completeUploadExternal', {
    files: [{ id: target.file_id, title: file.title }],
    channel_id: intro.channel,
  });
  return { fileId: target.file_id };
}
