/**
 * The one schema for config/demon.yaml: validator, TypeScript type and (through
 * scripts/schema.mts) the JSON Schema editors use. Every object is strict, every key has a
 * default or is required, and every key says what it is for.
 */
import { z } from 'zod';
import {
  bytes,
  dnsLabel,
  dnsSubdomain,
  durationWithin,
  envVarName,
  httpPath,
  imageReference,
  ingressHost,
  port,
  promDuration,
  quantity,
  registryServer,
  secretKey,
  serviceName,
  userId,
} from './formats.ts';

// Messages a person can act on: "is required", "must be a number, not a string".
z.config({
  customError: (issue) => {
    if (issue.code !== 'invalid_type') return undefined;
    if (issue.input === undefined) return 'is required';
    if (typeof issue.input === 'number' && !Number.isFinite(issue.input))
      return `must be a finite ${issue.expected === 'int' ? 'whole number' : 'number'}, not ${issue.input}`;
    const got = Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'null' : `a ${typeof issue.input}`;
    const want =
      issue.expected === 'object'
        ? 'a mapping'
        : issue.expected === 'array'
          ? 'a list'
          : `a ${issue.expected === 'int' ? 'whole number' : issue.expected}`;
    return `must be ${want}, not ${got}`;
  },
});

const resourceAmounts = z.strictObject({
  cpu: quantity.optional().describe('CPU, e.g. "100m"'),
  memory: quantity.optional().describe('memory, e.g. "128Mi"'),
});

const resources = z
  .strictObject({
    requests: resourceAmounts.prefault({}).describe('what the scheduler reserves'),
    limits: resourceAmounts.prefault({}).describe('the most the container may use'),
  })
  .describe('container resource requests and limits');

const health = (liveness: string, readiness: string) =>
  z
    .strictObject({
      liveness: httpPath.default(liveness).describe('path of the liveness probe, also checked by the smoke test'),
      readiness: httpPath.default(readiness).describe('path of the readiness probe, also checked by the smoke test'),
      body: z
        .string()
        .min(1)
        .optional()
        .describe('text the health responses must contain (smoke check only; probes ignore it)'),
    })
    .prefault({})
    .describe('HTTP health endpoints the image serves on its port');

const persistence = (size: string) =>
  z
    .strictObject({
      enabled: z.boolean().default(false).describe('keep data on a PersistentVolumeClaim (else an emptyDir)'),
      storageClass: dnsSubdomain.optional().describe('storage class of the claim; the cluster default when omitted'),
      size: quantity.default(size).describe('size of the claim'),
    })
    .prefault({})
    .describe('where the data directory lives');

const componentBuild = z
  .strictObject({
    context: z
      .string()
      .min(1)
      .default('.')
      .describe('build context, relative to build.source (the Demon checkout root by default)'),
    dockerfile: z.string().min(1).describe('Dockerfile, relative to build.source (e.g. runtime/Dockerfile)'),
    args: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a build-arg name'), z.string())
      .default({})
      .describe('docker build --build-arg values (not secrets: they end up in the image history)'),
    target: z.string().min(1).optional().describe('multi-stage build target'),
  })
  .describe('how build-images builds this component; it is pushed to the repository of `image`');

const component = z
  .strictObject({
    name: serviceName.describe('component name: the Deployment, Service and label value'),
    image: imageReference.describe('image reference, repo:tag (pinned to a digest by images.lock.json when present)'),
    port: port.describe('container port the app listens on; the Service exposes the same port'),
    health: health('/health', '/ready'),
    replicas: z.int().min(0).max(100).default(1).describe('number of pods'),
    resources: resources.prefault({}),
    env: z
      .record(envVarName, z.string())
      .default({})
      .describe('extra environment variables (plain values, not secrets)'),
    appSecret: z.boolean().default(true).describe('load the app Secret into the environment (envFrom)'),
    runAsUser: userId.default(65532).describe('non-root user id the container runs as'),
    metrics: z
      .strictObject({
        port: port.optional().describe('port serving the metrics (the component port when omitted)'),
        path: httpPath.default('/metrics').describe('path of the Prometheus metrics'),
      })
      .optional()
      .describe(
        "where the component serves Prometheus metrics: its pods are annotated for scraping (by this stack's Prometheus when monitoring is on, or a cluster's own)",
      ),
    build: componentBuild.optional(),
  })
  .describe('one Demon service, deployed as a Deployment and a Service');

export const DEFAULT_COMPONENTS = [
  {
    name: 'runtime',
    image: 'ghcr.io/afewell-hh/demon-runtime:main',
    port: 8080,
    build: { dockerfile: 'runtime/Dockerfile' },
  },
  {
    name: 'engine',
    image: 'ghcr.io/afewell-hh/demon-engine:main',
    port: 8081,
    build: { dockerfile: 'engine/Dockerfile' },
  },
  {
    name: 'operate-ui',
    image: 'ghcr.io/afewell-hh/demon-operate-ui:main',
    port: 3000,
    health: { liveness: '/health', readiness: '/health' },
    build: { dockerfile: 'operate-ui/Dockerfile' },
  },
];

const cluster = z
  .strictObject({
    provider: z
      .enum(['kind', 'existing'])
      .default('kind')
      .describe('kind: create or reuse a local kind cluster; existing: use a kubeconfig context'),
    name: dnsLabel.default('demon').describe('kind cluster name (its kubeconfig context is kind-<name>)'),
    kind: z
      .strictObject({
        nodeImage: imageReference.optional().describe("kind node image (kind's default when omitted)"),
        config: z
          .record(z.string(), z.unknown())
          .default({})
          .describe(
            'extra kind Cluster config merged into the generated one (nodes, networking, containerdConfigPatches, ...)',
          ),
      })
      .prefault({})
      .describe('settings used when provider is kind'),
    kubeconfig: z
      .string()
      .min(1)
      .optional()
      .describe('kubeconfig file for provider existing ($KUBECONFIG or ~/.kube/config when omitted)'),
    context: z
      .string()
      .min(1)
      .optional()
      .describe(
        'kubeconfig context for provider existing (required there, so a deploy never lands on whatever context is current)',
      ),
  })
  .prefault({})
  .describe('which cluster to deploy to');

const nats = z
  .strictObject({
    image: imageReference.default('nats:2.10-alpine').describe('NATS server image'),
    clientPort: port.default(4222).describe('client port (NATS_URL points here)'),
    monitorPort: port.default(8222).describe('HTTP monitoring port, where the health paths are served'),
    health: health('/healthz', '/healthz?js-enabled-only=true'),
    streamName: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be a JetStream stream name (letters, digits, "_" and "-")')
      .default('RITUAL_EVENTS')
      .describe('JetStream stream the apps use (RITUAL_STREAM_NAME)'),
    jetstream: z
      .strictObject({
        maxMemory: bytes('1Mi', '1Ti')
          .default('256Mi')
          .describe(
            "JetStream memory store limit; the container's memory limit must leave room for it (see the config rules)",
          ),
        maxFile: bytes('1Mi', '1Pi').default('1Gi').describe('JetStream file store limit'),
      })
      .prefault({})
      .describe('JetStream storage limits'),
    persistence: persistence('10Gi'),
    resources: resources.prefault({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } }),
    runAsUser: userId.default(1000).describe('non-root user id NATS runs as'),
    exporter: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'run the exporter beside NATS, annotated for scraping; independent of monitoring.enabled, so turning monitoring on or off never restarts NATS',
          ),
        image: imageReference
          .default('natsio/prometheus-nats-exporter:0.15.0')
          .describe('prometheus-nats-exporter image'),
        port: port.default(7777).describe('port the exporter serves /metrics on'),
      })
      .prefault({})
      .describe(
        'prometheus-nats-exporter as a sidecar reading the NATS monitor port, so Prometheus sees NATS and JetStream',
      ),
  })
  .prefault({})
  .describe('the NATS server with JetStream (StatefulSet)');

const registry = z
  .strictObject({
    name: dnsLabel.describe('registry name; the pull Secret is demon-pull-<name>'),
    server: registryServer.describe(
      'registry host as docker writes it in auths (ghcr.io, https://index.docker.io/v1/, 127.0.0.1:5001)',
    ),
    usernameEnv: envVarName.describe('environment variable holding the user name'),
    passwordEnv: envVarName.describe('environment variable holding the password or token'),
    appliesTo: z
      .array(z.string())
      .min(1, 'must name at least one component')
      .describe('components whose pods pull with these credentials (nats, prometheus and grafana included)'),
  })
  .describe('credentials for pulling images');

const secretSource = z.union([
  envVarName.describe('environment variable holding the value'),
  z.strictObject({ file: z.string().min(1).describe('file holding the value (relative to the config file)') }),
]);

const secrets = z
  .strictObject({
    name: dnsSubdomain.default('demon-secrets').describe('name of the app Secret'),
    data: z
      .record(secretKey, secretSource)
      .default({})
      .describe('Secret key -> environment variable name (or {file: path}) holding its value'),
  })
  .prefault({})
  .describe('the app Secret, loaded by components with appSecret: true');

const monitoring = z
  .strictObject({
    enabled: z.boolean().default(false).describe('deploy Prometheus and Grafana'),
    prometheus: z
      .strictObject({
        image: imageReference.default('prom/prometheus:v2.45.0').describe('Prometheus image'),
        port: port.default(9090).describe('Prometheus port'),
        health: health('/-/healthy', '/-/ready'),
        retention: promDuration.default('15d').describe('how long Prometheus keeps samples'),
        persistence: persistence('10Gi'),
        resources: resources.prefault({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } }),
      })
      .prefault({})
      .describe('Prometheus, scraping the pods of the stack namespace'),
    grafana: z
      .strictObject({
        image: imageReference.default('grafana/grafana:10.0.0').describe('Grafana image'),
        port: port.default(3000).describe('Grafana container port'),
        servicePort: port.default(80).describe('port of the Grafana Service'),
        health: health('/api/health', '/api/health'),
        adminUser: z.string().min(1).default('admin').describe('Grafana admin user name'),
        adminPasswordEnv: envVarName
          .default('GRAFANA_ADMIN_PASSWORD')
          .describe('environment variable holding the Grafana admin password (never a literal in config)'),
        persistence: persistence('1Gi'),
        resources: resources.prefault({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } }),
      })
      .prefault({})
      .describe('Grafana, with Prometheus as its data source'),
  })
  .prefault({})
  .describe('the Prometheus + Grafana add-on');

const ingress = z
  .strictObject({
    enabled: z.boolean().default(false).describe('expose a component through an Ingress'),
    component: dnsLabel.default('operate-ui').describe('component the Ingress routes to'),
    host: ingressHost.optional().describe('host name to route, "*.example.com" for a wildcard (required with tls)'),
    className: dnsSubdomain.optional().describe('ingress class (the cluster default when omitted)'),
    tlsSecret: dnsSubdomain.optional().describe('Secret with the TLS certificate for host'),
  })
  .prefault({})
  .describe('optional Ingress');

const build = z
  .strictObject({
    source: z
      .string()
      .min(1)
      .default('../Demon')
      .describe('the Demon checkout that build contexts and Dockerfiles are relative to (relative to the config file)'),
    parallelism: z.int().min(1).max(8).default(2).describe('how many images build at once'),
    latest: z.boolean().default(false).describe('also tag and push :latest'),
  })
  .prefault({})
  .describe('settings for scripts/build-images.mts');

const nightly = z
  .strictObject({
    artifacts: z
      .string()
      .min(1)
      .default('artifacts')
      .describe('directory for run directories (artifacts/<UTC timestamp>/), relative to the working directory'),
    history: z
      .string()
      .min(1)
      .default('artifacts/history.jsonl')
      .describe('file that gets one JSON line per nightly run'),
    keep: z
      .int()
      .min(8)
      .max(10_000)
      .default(60)
      .describe(
        'how many runs the history keeps, 8 to 10000 (the median needs the last 7); the oldest are dropped on each append, so the history cached between GitHub runs stays small',
      ),
    deadline: durationWithin('1m', '24h')
      .default('60m')
      .describe('the whole run must finish within this (1m to 24h); teardown and artifacts still run after it'),
    clusterName: dnsLabel.default('demon-nightly').describe('kind cluster the nightly creates afresh (provider kind)'),
  })
  .prefault({})
  .describe('settings for scripts/nightly.mts');

const wait = z
  .strictObject({
    timeout: durationWithin('0s', '24h')
      .default('5m')
      .describe(
        'how long to wait for every workload to be ready (the workloads are always looked at once, even with 0s)',
      ),
    pullGrace: durationWithin('0s', '1h')
      .default('30s')
      .describe(
        'how long image pull errors may last before the wait fails: rate-limited pulls recover, and the kubelet can miss a just-created pull Secret on its first attempt and retry after 10 s',
      ),
    readinessGrace: durationWithin('0s', '1h')
      .default('45s')
      .describe('how long a running container may fail its readiness probe before the wait fails'),
  })
  .prefault({})
  .describe('readiness wait');

export const configSchema = z
  .strictObject({
    cluster,
    namespace: dnsLabel
      .default('demon-system')
      .describe(
        'namespace the stack is deployed to (never kube-system, kube-public, kube-node-lease or another kube-*; default only with allowDefaultNamespace)',
      ),
    allowDefaultNamespace: z
      .boolean()
      .default(false)
      .describe('allow namespace: default (shared by everything that names no namespace; refused unless set)'),
    nats,
    components: z.array(component).prefault(DEFAULT_COMPONENTS).describe('the Demon services'),
    secrets,
    registries: z.array(registry).default([]).describe('registry credentials, each becoming an imagePullSecret'),
    monitoring,
    ingress,
    build,
    nightly,
    wait,
  })
  .describe('demon-bootstrap configuration');

export type Config = z.output<typeof configSchema>;
export type Component = Config['components'][number];
export type Registry = Config['registries'][number];
export type Resources = Component['resources'];
export type Health = Component['health'];
