import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the database that can hold its traffic: held, nothing is forwarded either
 * way (requests wait, as they do on a database that hangs), and released it all flows on. Unlike a
 * stopped server, a hung one refuses nothing: the app's operations just do not come back.
 */
export interface HoldingProxy {
  uri: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(targetUri: string): Promise<HoldingProxy> {
  const target = new URL(targetUri);
  const sockets = new Set<Socket>();
  let held = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    if (held) s.pause();
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const uri = new URL(targetUri);
  uri.host = `127.0.0.1:${port}`;
  return {
    uri: uri.toString(),
    hold() {
      held = true;
      for (const s of sockets) s.pause();
    },
    release() {
      held = false;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
