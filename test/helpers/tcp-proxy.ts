/**
 * A TCP relay between devices and a server, for network drops: `cut()` resets every connection
 * through it (TLS sessions die mid-stream, as on a lost link), `refuse()` turns new ones away
 * until `accept()`. The server behind it may restart; connections made meanwhile just fail.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { freePort } from './wait.ts';

export interface TcpProxy {
  port: number;
  /** Connections relayed since start. */
  accepted(): number;
  cut(): void;
  refuse(): void;
  accept(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let refusing = false;
  let count = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    count += 1;
    const upstream = createConnection({ port: targetPort, host: targetHost });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const cut = (): void => {
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
  };
  return {
    port,
    accepted: () => count,
    cut,
    refuse() {
      refusing = true;
    },
    accept() {
      refusing = false;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
