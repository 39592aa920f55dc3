/**
 * What the smoke e2e suite and bench/smoke.ts need beyond the shared harness: a stand-in image
 * whose health path answers 500, lock files built from what the registry really holds, and the
 * smoke script as one process (node --import tsx, no tsx wrapper) so signals reach it directly.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lib/core/session.ts';
import type { Lock } from '../../../lib/images/lock.ts';
import { buildContext } from './images.ts';

/**
 * busybox httpd runs files under /cgi-bin/ as CGI and honours their "Status:" header; the
 * stand-in image has busybox sh, so a short script makes a health endpoint that fails. The
 * kubelet's own probe (User-Agent kube-probe/...) still gets 200: the pod stays Ready and is
 * not restarted while a test runs, and every other client, the smoke check, sees the 500.
 */
export const BROKEN_HEALTH_PATH = '/cgi-bin/health';

const BROKEN_CGI = `#!/bin/busybox sh
case "$HTTP_USER_AGENT" in
kube-probe/*) echo "Status: 200 OK"; echo; echo ok ;;
*) echo "Status: 500 Internal Server Error"; echo "Content-Type: text/plain"; echo; echo "health: database unreachable" ;;
esac
`;

export function brokenHealthContext(): string {
  const dir = buildContext();
  mkdirSync(join(dir, 'www', 'cgi-bin'), { recursive: true });
  const script = join(dir, 'www', 'cgi-bin', 'health');
  writeFileSync(script, BROKEN_CGI);
  chmodSync(script, 0o755);
  return dir;
}

/** The same app with one extra file: a different image digest from the same Dockerfile. */
export function rebuiltContext(marker: string): string {
  const dir = buildContext();
  writeFileSync(join(dir, 'www', 'version'), `${marker}\n`);
  return dir;
}

/** The digest the registry holds for a pushed reference (docker records it at push time). */
export function repoDigest(ref: string): string {
  const repository = ref.replace(/:[^:/]+$/, '');
  const digests = JSON.parse(
    execFileSync('docker', ['inspect', '--format', '{{json .RepoDigests}}', ref], {
      encoding: 'utf8',
      timeout: 30_000,
    }),
  ) as string[];
  const match = digests.find((d) => d.startsWith(`${repository}@`));
  if (!match) throw new Error(`${ref} has no repo digest for ${repository}: ${digests.join(', ')}`);
  return match.slice(match.indexOf('@') + 1);
}

/** A lock pinning each component to `repository@digest`, in the format build-images writes. */
export function writeLockFile(pins: Record<string, { ref: string; digest: string }>): string {
  const images: Lock['images'] = {};
  for (const [name, { ref, digest }] of Object.entries(pins)) {
    const repository = ref.replace(/:[^:/]+$/, '');
    images[name] = {
      repository,
      tags: [ref.slice(repository.length + 1)],
      digest,
      pinned: `${repository}@${digest}`,
      sourceCommit: 'e2e',
      builtAt: new Date().toISOString(),
      contentHash: 'e2e',
    };
  }
  const file = join(mkdtempSync(join(tmpdir(), 'demon-e2e-lock-')), 'images.lock.json');
  writeFileSync(file, `${JSON.stringify({ version: 1, images }, null, 2)}\n`);
  return file;
}

export interface SmokeRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts scripts/smoke.mts as a single node process (the pid that gets the signal is the script). */
export function startSmoke(args: string[], env: Record<string, string>): SmokeRun {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'smoke.mts'), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs the smoke to completion, bounded; returns its exit code, output and wall time. */
export async function runSmoke(args: string[], env: Record<string, string>, timeoutMs = 180_000) {
  const started = performance.now();
  const run = startSmoke(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const { code } = await run.done;
  clearTimeout(timer);
  return { code: code ?? -1, stdout: run.stdout(), stderr: run.stderr(), ms: performance.now() - started };
}

/** `kubectl port-forward` processes whose command line names the namespace (any parent). */
export function portForwardPids(namespace: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `kubectl.* port-forward -n ${namespace} `], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Direct children of `pid` that are kubectl port-forwards. */
export function portForwardChildren(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'port-forward'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
