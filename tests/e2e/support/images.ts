/**
 * Builds and pushes the stand-in app images with the real docker engine: tests/e2e/app's
 * busybox httpd serving /health, /ready and /healthz, one image per component with its port.
 * Each run uses fresh tags, so the kubelet must really pull them (through our pull secret):
 * an image already on the node would be started without any credentials.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lib/core/session.ts';
import type { Harness } from './harness.ts';

const APP_DIR = join(REPO_ROOT, 'tests', 'e2e', 'app');

// The tests' own docker config: a login must never land in root's ~/.docker, where the
// kubelet (and other tools) would pick the credentials up.
const DOCKER_CONFIG = mkdtempSync(join(tmpdir(), 'demon-e2e-docker-'));

function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, {
    input,
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DOCKER_CONFIG },
  });
}

export function buildContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'demon-e2e-app-'));
  cpSync(APP_DIR, dir, { recursive: true });
  cpSync('/bin/busybox', join(dir, 'busybox'));
  return dir;
}

export function login(h: Harness): void {
  docker(['login', h.registry, '--username', h.registryUser, '--password-stdin'], h.registryPassword);
}

/** Builds `name` listening on `port` (any string: an invalid one makes a crash-looping app). */
export function buildAndPush(h: Harness, context: string, name: string, port: string, tag: string): string {
  const ref = `${h.registry}/demon-e2e/${name}:${tag}`;
  docker(['build', '-q', '--build-arg', `PORT=${port}`, '-t', ref, context]);
  docker(['push', '-q', ref]);
  return ref;
}

export interface StackImages {
  nats: string;
  runtime: string;
  engine: string;
  'operate-ui': string;
}

export function buildStack(h: Harness, tag: string): StackImages {
  const context = buildContext();
  login(h);
  return {
    nats: buildAndPush(h, context, 'nats', '8222', tag),
    runtime: buildAndPush(h, context, 'runtime', '8080', tag),
    engine: buildAndPush(h, context, 'engine', '8081', tag),
    'operate-ui': buildAndPush(h, context, 'operate-ui', '3000', tag),
  };
}
