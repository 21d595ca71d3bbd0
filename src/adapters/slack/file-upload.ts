import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { SlackSender } from '../../infra/slack/sender.js';

/**
 * Sends a file to a person in a DM with Slack's external upload flow: a message opens the DM (its
 * reply carries the DM channel id), files.getUploadURLExternal, the bytes, files.completeUploadExternal.
 */
export async function uploadFileToUser(
  sender: SlackSender,
  userId: string,
  file: { path: string; filename: string; title: string; message: string },
): Promise<{ fileId: string }> {
  const intro = await sender.call<{ channel: string; ts: string }>('chat.postMessage', {
    channel: userId,
    text: file.message,
  });
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
    thread_ts: intro.ts,
  });
  return { fileId: target.file_id };
}
