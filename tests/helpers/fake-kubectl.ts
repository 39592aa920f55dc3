/**
 * A stand-in `kubectl` for the port-forward tests, put first on PATH of the spawned process.
 * It prints what the real one prints (tests/fixtures/recorded/port-forward*.std*) and, in
 * "forward" mode, really forwards: it listens on a free 127.0.0.1 port and pipes each
 * connection to the local test server at FAKE_KUBECTL_TARGET. Every process writes its pid
 * to FAKE_KUBECTL_PIDS, so tests can check that none is left running.
 *   FAKE_KUBECTL_MODE: forward | fail | silent | forward-then-exit
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recorded } from './fake-runner.ts';

const SCRIPT = `#!${process.execPath}
const net = require('node:net');
const fs = require('node:fs');
const env = process.env;
fs.appendFileSync(env.FAKE_KUBECTL_PIDS, process.pid + '\\n');
const mode = env.FAKE_KUBECTL_MODE || 'forward';
const remote = (process.argv.find((a) => /^:\\d+$/.test(a)) || ':0').slice(1);
if (mode === 'fail') {
  process.stderr.write(env.FAKE_KUBECTL_STDERR || 'error: failed');
  process.exit(1);
}
if (mode === 'silent') {
  setInterval(() => {}, 1000);
} else {
  const server = net.createServer((client) => {
    process.stdout.write(env.FAKE_KUBECTL_HANDLING.replaceAll('PORT', String(server.address().port)));
    const upstream = net.connect(Number(env.FAKE_KUBECTL_TARGET), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(env.FAKE_KUBECTL_FORWARDING.replaceAll('PORT', String(server.address().port)).replaceAll('REMOTE', remote));
    if (mode === 'forward-then-exit') setTimeout(() => { process.stderr.write(env.FAKE_KUBECTL_LOST); process.exit(1); }, Number(env.FAKE_KUBECTL_LIFETIME_MS || 300));
  });
}
`;

export interface FakeKubectl {
  dir: string;
  /** The environment for spawned processes: this kubectl first on PATH. */
  env(
    mode: 'forward' | 'fail' | 'silent' | 'forward-then-exit',
    extra?: Record<string, string>,
  ): Record<string, string>;
  /** Every pid a fake kubectl ever had. */
  pids(): number[];
}

/** The recorded real lines, with the local and remote ports made placeholders. */
function template(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+ -> \d+/g, '127.0.0.1:PORT -> REMOTE')
    .replace(/Handling connection for \d+/g, 'Handling connection for PORT');
}

export function fakeKubectl(targetPort = 0): FakeKubectl {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
  writeFileSync(join(dir, 'kubectl'), SCRIPT);
  chmodSync(join(dir, 'kubectl'), 0o755);
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');
  const lines = template(recorded('port-forward.stdout')).split('\n');
  return {
    dir,
    env: (mode, extra = {}) => ({
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      FAKE_KUBECTL_MODE: mode,
      FAKE_KUBECTL_PIDS: pidFile,
      FAKE_KUBECTL_TARGET: String(targetPort),
      FAKE_KUBECTL_FORWARDING: `${lines[0]}\n`,
      FAKE_KUBECTL_HANDLING: `${lines[1]}\n`,
      FAKE_KUBECTL_LOST: recorded('port-forward-lost.stderr'),
      ...extra,
    }),
    pids: () => readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number),
  };
}

/** Whether a process still runs (zombies of our own children count as gone once reaped). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `pids` are all gone, bounded. */
export async function allGone(pids: number[], timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((pid) => !running(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pids.every((pid) => !running(pid));
}
