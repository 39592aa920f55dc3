/**
 * Builds and pushes the stand-in app images with the real docker engine: tests/e2e/app's
 * busybox httpd serving /health, /ready and /healthz, one image per component with its port.
 * Each run uses fresh tags, so the kubelet must really pull them (through our pull secret):
 * an image already on the node would be started without any credentials.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lib/core/session.ts';
import type { Harness } from './harness.ts';

const APP_DIR = join(REPO_ROOT, 'tests', 'e2e', 'app');

// The tests' own docker config: a login must never land in root's ~/.docker, where the
// kubelet (and other tools) would pick the credentials up.
const DOCKER_CONFIG = mkdtempSync(join(tmpdir(), 'demon-e2e-docker-'));
process.once('exit', () => rmSync(DOCKER_CONFIG, { recursive: true, force: true }));

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
  /** The real nats-server (tests/e2e/servers), not a stand-in. */
  nats: string;
  /** The real prometheus-nats-exporter: NATS' sidecar in every stack (nats.exporter). */
  exporter: string;
  runtime: string;
  engine: string;
  'operate-ui': string;
}

/** The real servers, built from their Go modules and pushed to the e2e registry (cached, ~1 s warm). */
export interface RealServers {
  nats: string;
  prometheus: string;
  exporter: string;
}

let servers: RealServers | undefined;

export function realServers(h: Harness): RealServers {
  if (servers) return servers;
  const out = execFileSync(
    'bash',
    [join(REPO_ROOT, 'tests', 'e2e', 'servers', 'build-server-images.sh'), '--push', h.registry],
    {
      encoding: 'utf8',
      timeout: 30 * 60_000,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        DEMON_E2E_REGISTRY_USER: h.registryUser,
        DEMON_E2E_REGISTRY_PASSWORD_FILE: h.registryPasswordFile,
      },
    },
  );
  const pushed = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([name, , ref]) => [name!, ref!]),
  );
  servers = { nats: pushed.nats!, prometheus: pushed.prometheus!, exporter: pushed['prometheus-nats-exporter']! };
  return servers;
}

let grafanaLocal: string | undefined;

/** The Grafana stand-in (tests/e2e/app/grafana), built into a local image: Grafana itself is not built here. */
export function grafanaStandInImage(): string {
  if (grafanaLocal) return grafanaLocal;
  const dir = mkdtempSync(join(tmpdir(), 'demon-e2e-grafana-'));
  const source = join(APP_DIR, 'grafana');
  cpSync(join(source, 'Dockerfile'), join(dir, 'Dockerfile'));
  execFileSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(dir, 'grafana'), '.'], {
    cwd: source,
    env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  docker(['build', '-q', '-t', 'localhost/demon-e2e/grafana:stand-in', dir]);
  grafanaLocal = 'localhost/demon-e2e/grafana:stand-in';
  return grafanaLocal;
}

let grafana: string | undefined;

/** The Grafana stand-in, pushed to the e2e registry. */
export function grafanaStandIn(h: Harness): string {
  if (grafana) return grafana;
  login(h);
  const ref = `${h.registry}/demon-e2e/grafana:stand-in`;
  docker(['tag', grafanaStandInImage(), ref]);
  docker(['push', '-q', ref]);
  grafana = ref;
  return ref;
}

/** The real servers as local images (built from their Go modules, cached): name -> local tag. */
export function realServerImages(): Record<'nats' | 'prometheus' | 'prometheus-nats-exporter', string> {
  const out = execFileSync('bash', [join(REPO_ROOT, 'tests', 'e2e', 'servers', 'build-server-images.sh')], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const local = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(' ').slice(0, 2)),
  );
  return local as Record<'nats' | 'prometheus' | 'prometheus-nats-exporter', string>;
}

export function buildStack(h: Harness, tag: string): StackImages {
  const context = buildContext();
  login(h);
  return {
    nats: realServers(h).nats,
    exporter: realServers(h).exporter,
    runtime: buildAndPush(h, context, 'runtime', '8080', tag),
    engine: buildAndPush(h, context, 'engine', '8081', tag),
    'operate-ui': buildAndPush(h, context, 'operate-ui', '3000', tag),
  };
}
