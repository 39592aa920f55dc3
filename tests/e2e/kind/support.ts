/**
 * What the kind lane's suites share: the environment a real `kind` runs in here (prepare.sh:
 * the offline node image, and the harness-only docker wrapper first on PATH; the tool itself
 * calls plain `kind`), a kubeconfig of the lane's own, a local registry on the kind network
 * (kind's documented local-registry pattern) with htpasswd auth, and the stack's images in it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../../lib/core/session.ts';
import { buildContext, grafanaStandInImage, realServerImages } from '../support/images.ts';

const KIND_DIR = join(REPO_ROOT, 'tests', 'e2e', 'kind');
export const LANE_STATE = '/var/tmp/demon-kind-lane';

export interface Lane {
  /** The environment every script and tool of the lane runs with. */
  env: Record<string, string>;
  nodeImage: string;
  kubeconfig: string;
}

let lane: Lane | undefined;

/** prepare.sh builds what is missing (seconds when warm) and prints the env as export lines. */
export function kindLane(): Lane {
  if (lane) return lane;
  const out = execFileSync('bash', [join(KIND_DIR, 'prepare.sh')], {
    encoding: 'utf8',
    timeout: 60 * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const vars = Object.fromEntries(
    [...out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]),
  );
  const path = vars.PATH!.replace('$PATH', process.env.PATH ?? '');
  // A fixed place, so a person can look at the lane's clusters by hand while it runs.
  mkdirSync(LANE_STATE, { recursive: true, mode: 0o700 });
  const kubeconfig = join(LANE_STATE, 'kubeconfig');
  lane = {
    env: {
      PATH: path,
      HOME: process.env.HOME ?? '/root',
      KUBECONFIG: kubeconfig,
      CI: 'true',
      KIND_EXPERIMENTAL_PROVIDER: vars.KIND_EXPERIMENTAL_PROVIDER!,
    },
    nodeImage: vars.KIND_OFFLINE_NODE_IMAGE!,
    kubeconfig,
  };
  return lane;
}

/** Runs a tool in the lane's environment; returns stdout, throws with stderr on failure. */
export function tool(name: string, args: string[], input?: string): string {
  const l = kindLane();
  const result = spawnSync(name, args, {
    input,
    encoding: 'utf8',
    env: { ...process.env, ...l.env },
    timeout: 10 * 60_000,
  });
  if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

export const kubectl = (context: string, args: string[], input?: string) =>
  tool('kubectl', ['--context', context, ...args], input);

export function kindClusters(): string[] {
  return tool('kind', ['get', 'clusters']).split('\n').filter(Boolean);
}

/** The registry kind's local-registry pattern runs: a container on the kind network. */
export const REGISTRY = { host: 'localhost:5002', container: 'demon-kind-registry', user: 'demon' };
const password = `kind-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

/** How a kind node pulls `localhost:5002/...`: from the registry container, by name, on the kind network. */
export const MIRROR_PATCH = `[plugins."io.containerd.grpc.v1.cri".registry.mirrors."${REGISTRY.host}"]\n  endpoint = ["http://${REGISTRY.container}:5000"]\n`;

let registryUp = false;

/**
 * Debian's docker-registry (distribution 2.8) in an image FROM the node build's Debian rootfs,
 * htpasswd auth with a password made for this run (it reaches htpasswd on stdin, never argv).
 */
export function startRegistry(): { env: Record<string, string> } {
  const creds = { KIND_REGISTRY_USER: REGISTRY.user, KIND_REGISTRY_PASSWORD: password };
  if (registryUp) return { env: creds };
  const dir = mkdtempSync(join(tmpdir(), 'demon-kind-registry-'));
  cpSync('/usr/bin/docker-registry', join(dir, 'docker-registry'));
  writeFileSync(
    join(dir, 'config.yml'),
    'version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: /var/lib/registry } }\nhttp: { addr: ":5000" }\nauth: { htpasswd: { realm: demon-kind, path: /etc/docker/registry/htpasswd } }\n',
  );
  writeFileSync(
    join(dir, 'htpasswd'),
    execFileSync('htpasswd', ['-iBn', REGISTRY.user], { input: password, encoding: 'utf8' }),
  );
  const base = tool('docker', [
    'images',
    '--format',
    '{{.Repository}}:{{.Tag}}',
    'localhost/kind-offline/debian-iptables',
  ]).split('\n')[0]!;
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${base}\nCOPY docker-registry /usr/bin/docker-registry\nCOPY config.yml htpasswd /etc/docker/registry/\nENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]\n`,
  );
  spawnSync('docker', ['rm', '-f', REGISTRY.container], { stdio: 'ignore' });
  execFileSync('docker', ['build', '-q', '-t', 'localhost/demon-e2e/kind-registry:lane', dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    stdio: 'ignore',
  });
  tool('docker', [
    'run',
    '-d',
    '--name',
    REGISTRY.container,
    '--restart=no',
    '-p',
    '127.0.0.1:5002:5000',
    'localhost/demon-e2e/kind-registry:lane',
  ]);
  // kind creates the network with its first cluster; made here first, kind takes it as it is.
  if (!tool('docker', ['network', 'ls', '--format', '{{.Name}}']).split('\n').includes('kind'))
    tool('docker', ['network', 'create', 'kind']);
  tool('docker', ['network', 'connect', 'kind', REGISTRY.container]);
  registryUp = true;
  process.once('exit', () => spawnSync('docker', ['rm', '-f', REGISTRY.container], { stdio: 'ignore' }));
  return { env: creds };
}

/** Pushes a local image into the lane's registry (a private docker config, the password on stdin). */
export function pushImage(local: string, name: string): string {
  startRegistry();
  const ref = `${REGISTRY.host}/demon/${name}`;
  const config = mkdtempSync(join(tmpdir(), 'demon-kind-docker-'));
  const docker = (args: string[], input?: string) =>
    execFileSync('docker', args, {
      input,
      env: { ...process.env, DOCKER_CONFIG: config },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  try {
    docker(['login', REGISTRY.host, '-u', REGISTRY.user, '--password-stdin'], password);
    docker(['tag', local, ref]);
    docker(['push', '-q', ref]);
  } finally {
    rmSync(config, { recursive: true, force: true }); // the login's auth stays on no disk
  }
  return ref;
}

/** The stand-in app image, built for one component (its port), tagged locally. */
export function standIn(name: string, port: string, tag: string, extra: (dir: string) => void = () => {}): string {
  const dir = buildContext();
  extra(dir);
  const local = `localhost/demon-e2e/${name}:${tag}`;
  execFileSync('docker', ['build', '-q', '--build-arg', `PORT=${port}`, '-t', local, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    stdio: 'ignore',
    timeout: 300_000,
  });
  return local;
}

/**
 * A CGI readiness path for the wiring test: ready only when NATS answers at $NATS_URL (its
 * host and port, by cluster DNS and the Service's virtual IP), as a real app would need.
 */
export const NATS_READY_PATH = '/cgi-bin/nats-ready';
export function withNatsReadiness(dir: string): void {
  const script = join(dir, 'www', 'cgi-bin', 'nats-ready');
  execFileSync('mkdir', ['-p', join(dir, 'www', 'cgi-bin')]);
  writeFileSync(
    script,
    `#!/bin/busybox sh
hostport=\${NATS_URL#nats://}
host=\${hostport%:*}; port=\${hostport##*:}
if reply=$(echo | /bin/busybox timeout 3 /bin/busybox nc "$host" "$port" 2>&1) && echo "$reply" | /bin/busybox grep -q '^INFO '; then
  echo "Status: 200 OK"; echo; echo "nats reachable at $NATS_URL"
else
  echo "Status: 503 Service Unavailable"; echo; echo "cannot reach nats at $NATS_URL: $reply"
fi
`,
  );
  chmodSync(script, 0o755);
}

/** A kind config file for the tool: our offline node image, the registry mirror, the CNI kind cannot bring here. */
export function kindConfig(cluster: string, rest: Record<string, unknown>, nodeImage = kindLane().nodeImage): string {
  const config = {
    cluster: {
      provider: 'kind',
      name: cluster,
      kind: {
        nodeImage,
        config: { networking: { disableDefaultCNI: true }, containerdConfigPatches: [MIRROR_PATCH] },
      },
    },
    ...rest,
  };
  const file = join(mkdtempSync(join(tmpdir(), 'demon-kind-config-')), 'demon.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export const registryEntry = (appliesTo: string[]) => ({
  name: 'kindreg',
  server: REGISTRY.host,
  usernameEnv: 'KIND_REGISTRY_USER',
  passwordEnv: 'KIND_REGISTRY_PASSWORD',
  appliesTo,
});

/** The cluster most suites share (bootstrap.test.ts creates it through the tool; teardown.test.ts deletes it). */
export const LANE_CLUSTER = 'demon-lane';
export const LANE_NAMESPACE = 'demon';
export const laneContext = (cluster = LANE_CLUSTER) => `kind-${cluster}`;

/** Every kind cluster and node container this run made goes at exit, whatever failed. */
const made = new Set<string>();
export function remember(cluster: string): void {
  if (made.size === 0)
    process.once('exit', () => {
      for (const name of made)
        spawnSync('kind', ['delete', 'cluster', '--name', name], {
          env: { ...process.env, ...kindLane().env },
          stdio: 'ignore',
          timeout: 120_000,
        });
    });
  made.add(cluster);
}

export interface LaneImages {
  nats: string;
  prometheus: string;
  exporter: string;
  grafana: string;
  runtime: string;
  engine: string;
  'operate-ui': string;
}

let images: LaneImages | undefined;

/**
 * The stack's images in the lane's registry: the real NATS, Prometheus and exporter, the
 * Grafana stand-in, and the app stand-ins (runtime ready only when it reaches NATS by $NATS_URL).
 */
export function laneImages(): LaneImages {
  if (images) return images;
  const servers = realServerImages();
  const tag = `lane-${Date.now().toString(36)}`;
  images = {
    nats: pushImage(servers.nats, 'nats:2.10'),
    prometheus: pushImage(servers.prometheus, 'prometheus:v2.45'),
    exporter: pushImage(servers['prometheus-nats-exporter'], 'nats-exporter:0.20'),
    grafana: pushImage(grafanaStandInImage(), 'grafana:stand-in'),
    runtime: pushImage(standIn('runtime', '8080', tag, withNatsReadiness), `runtime:${tag}`),
    engine: pushImage(standIn('engine', '8081', tag), `engine:${tag}`),
    'operate-ui': pushImage(standIn('operate-ui', '3000', tag), `operate-ui:${tag}`),
  };
  return images;
}

/** The full stack on the lane cluster: persistence and monitoring on, every image from the lane registry. */
export function laneStack(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const i = laneImages();
  const components = [
    {
      name: 'runtime',
      image: i.runtime,
      port: 8080,
      health: { liveness: '/health', readiness: NATS_READY_PATH },
      metrics: {},
    },
    { name: 'engine', image: i.engine, port: 8081 },
    { name: 'operate-ui', image: i['operate-ui'], port: 3000, health: { liveness: '/health', readiness: '/health' } },
  ];
  return {
    namespace: LANE_NAMESPACE,
    nats: {
      image: i.nats,
      persistence: { enabled: true, storageClass: 'standard', size: '1Gi' },
      exporter: { image: i.exporter },
    },
    components,
    registries: [registryEntry(['nats', 'prometheus', 'grafana', ...components.map((c) => c.name)])],
    monitoring: {
      enabled: true,
      prometheus: { image: i.prometheus, persistence: { enabled: false } },
      grafana: { image: i.grafana, adminPasswordEnv: 'LANE_GRAFANA_PASSWORD' },
    },
    // A new cluster's local-path provisioner and CoreDNS start 13-23 s after kind returns.
    wait: { timeout: '4m', pullGrace: '60s', readinessGrace: '60s' },
    ...overrides,
  };
}

/** The environment the tool runs with in this lane: its PATH and kubeconfig, the registry and Grafana secrets. */
export function laneEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...kindLane().env, ...startRegistry().env, LANE_GRAFANA_PASSWORD: grafanaPassword, ...extra };
}
const grafanaPassword = `grafana-${Math.random().toString(36).slice(2)}`;
export const secretsOfLane = () => [password, grafanaPassword];

/** `kubectl port-forward` to a lane cluster; resolves with the local ports once it forwards. */
export async function forward(
  context: string,
  namespace: string,
  target: string,
  remote: number[],
): Promise<{ ports: number[]; close: () => void }> {
  const child = spawn(
    'kubectl',
    ['--context', context, '-n', namespace, 'port-forward', target, ...remote.map((p) => `:${p}`)],
    {
      env: { ...process.env, ...kindLane().env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const close = () => child.kill('SIGTERM');
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`port-forward ${target} did not start within 20 s: ${err}`)),
      20_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      if (found.length === remote.length) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`port-forward ${target} exited ${code}: ${err}`)));
  }).catch((error: unknown) => {
    close();
    throw error;
  });
  return { ports, close };
}

/**
 * One NATS request over the client protocol: CONNECT, SUB to an inbox, PUB with a reply
 * subject, the first MSG's payload back. Enough to drive JetStream's API without a client library.
 */
export function natsRequest(port: number, subject: string, payload: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${subject} within ${timeoutMs} ms: ${JSON.stringify(text.slice(0, 300))}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const first = text === '';
      text += chunk;
      if (first) {
        const body = Buffer.byteLength(payload);
        socket.write(
          `CONNECT {"verbose":false}\r\nSUB _INBOX.lane 1\r\nPUB ${subject} _INBOX.lane ${body}\r\n${payload}\r\n`,
        );
      }
      const msg = /MSG _INBOX\.lane 1 (\d+)\r\n/.exec(text);
      if (msg) {
        const start = msg.index + msg[0].length;
        const bytes = Number(msg[1]);
        if (Buffer.byteLength(text.slice(start)) >= bytes + 2) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text.slice(start, start + bytes));
        }
      }
      if (/-ERR /.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`NATS said ${text.split('\r\n').find((l) => l.startsWith('-ERR'))}`));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
