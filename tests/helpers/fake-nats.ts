/**
 * A TCP server that answers like nats-server 2.10.27 did (tests/fixtures/recorded/
 * nats-client-session.txt): its INFO line on connect, PONG for a PING. For the unit tests of
 * the smoke's protocol check; the e2e lane runs the real server.
 */
import { createServer, type Server } from 'node:net';
import { recorded } from './fake-runner.ts';

export async function fakeNats(): Promise<{ port: number; close(): Promise<void> }> {
  const [info, pong] = recorded('nats-client-session.txt').split(/(?<=\r\n)/);
  const server: Server = createServer((socket) => {
    socket.write(info!);
    socket.on('data', (chunk) => {
      if (chunk.toString().includes('PING\r\n')) socket.write(pong!);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Never what keeps a test process alive.
  server.unref();
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
