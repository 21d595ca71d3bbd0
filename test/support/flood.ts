import { readFileSync } from 'node:fs';
import { request } from 'node:http';

export interface FloodResult {
  /** The HTTP status the server answered with, or how the connection ended without one. */
  outcome: number | 'closed' | 'reset';
  /** Bytes the client managed to hand to its socket before the server cut it off. */
  sent: number;
}

/**
 * Sends up to `bytes` of body at `path` as fast as the server takes it, chunked unless a
 * Content-Length header is given (which may lie). Stops as soon as the server answers or closes the
 * connection; a server that neither reads nor answers for 10 s fails the flood.
 */
export function flood(
  port: number,
  path: string,
  bytes: number,
  headers: Record<string, string>,
): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = false;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers });
    const chunk = Buffer.alloc(256 * 1024, 0x7b);
    const end = (outcome: FloodResult['outcome']) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ outcome, sent });
    };
    req.on('response', (res) => {
      res.resume();
      end(res.statusCode ?? 'closed');
    });
    req.on('error', (err: NodeJS.ErrnoException) => end(err.code === 'ECONNRESET' ? 'reset' : 'closed'));
    req.on('close', () => end('closed'));
    void (async () => {
      while (!done && sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          const drained = await new Promise<boolean>((r) => {
            const settle = (ok: boolean) => {
              clearTimeout(timer);
              req.off('drain', onDrain);
              req.off('close', onDrain);
              r(ok);
            };
            const onDrain = () => settle(true);
            const timer = setTimeout(() => settle(false), 10_000);
            req.once('drain', onDrain);
            req.once('close', onDrain);
          });
          if (!drained && !done) {
            done = true;
            req.destroy();
            reject(
              new Error(
                `the server stopped reading ${path} after ${sent} bytes but neither answered nor closed`,
              ),
            );
            return;
          }
        }
      }
      if (!done) req.end();
    })();
  });
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}
