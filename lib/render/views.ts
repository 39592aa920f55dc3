/**
 * One view type per template, built only from the validated Config. Strings are quoted with
 * `y()` so the templates stay logic-less and no value can break the YAML.
 */
import type { Component, Config, Resources } from '../config/schema.ts';
import { y, type Yaml } from './mustache.ts';
import { pullSecretName } from './names.ts';
import { wholeUnits } from '../config/quantity.ts';
import { DATASOURCE_UID, starterDashboard } from './dashboard.ts';

interface Labels {
  name: Yaml;
  component: Yaml;
}

interface PodView extends Labels {
  namespace: Yaml;
  /** Pod annotations (Prometheus' scrape, port and path), or false for none. */
  annotations: Yaml | false;
  image: Yaml;
  runAsUser: number;
  hasPullSecrets: boolean;
  pullSecrets: Yaml;
  livenessPath: Yaml;
  readinessPath: Yaml;
  resources: Yaml;
}

export interface NamespaceView {
  namespace: Yaml;
}

export interface ComponentView extends PodView {
  port: number;
  replicas: number;
  env: Yaml;
  appSecret: Yaml | false;
}

interface PersistenceView {
  storageClass: Yaml | false;
  size: Yaml;
}

export interface NatsView extends PodView {
  clientPort: number;
  monitorPort: number;
  maxMemoryBytes: number;
  maxFileBytes: number;
  persistence: PersistenceView | false;
  /** The Go runtime's soft memory limit, when the container has a memory limit. */
  goMemLimit: Yaml | false;
  exporter: { image: Yaml; port: number; args: Yaml } | false;
}

export interface PrometheusView extends PodView {
  port: number;
  retention: string;
  persistence: PersistenceView | false;
  /** The namespace its pod discovery is limited to, as a YAML list. */
  namespaces: Yaml;
  scrapeInterval: Yaml;
}

export interface GrafanaView extends PodView {
  port: number;
  portString: Yaml;
  servicePort: number;
  adminUser: Yaml;
  adminSecret: Yaml;
  prometheusUrl: Yaml;
  datasourceUid: Yaml;
  dashboard: Yaml;
  persistence: PersistenceView | false;
}

export interface IngressView extends Labels {
  namespace: Yaml;
  className: Yaml | false;
  host: Yaml | false;
  tls: boolean;
  tlsSecret: Yaml;
  service: Yaml;
  port: number;
}

/** Image references after pinning: component name -> reference (lock file digests). */
export type ImageOverrides = Readonly<Record<string, string>>;

/** Bytes in a quantity the schema already checked to be whole bytes (config/quantity.ts). */
export function quantityToBytes(quantity: string): number {
  const bytes = wholeUnits(quantity);
  if (bytes === undefined)
    throw new Error(`${quantity} is not a whole number of bytes (the schema should have refused it)`);
  return bytes;
}

function cleanResources(resources: Resources): Yaml {
  const drop = (o: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const requests = drop(resources.requests);
  const limits = drop(resources.limits);
  return y({
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  });
}

function pullSecretsFor(config: Config, workload: string): string[] {
  return config.registries.filter((r) => r.appliesTo.includes(workload)).map((r) => pullSecretName(r.name));
}

function podView(
  config: Config,
  name: string,
  role: string,
  image: string,
  runAsUser: number,
  health: { liveness: string; readiness: string },
  resources: Resources,
  scrape?: { port: number; path: string },
): PodView {
  const pullSecrets = pullSecretsFor(config, name);
  // Whether or not this stack's Prometheus runs: turning monitoring on or off must not change
  // a pod template (that would restart NATS and every component), and a cluster's own
  // Prometheus can use the same annotations.
  const annotated = scrape !== undefined;
  return {
    name: y(name),
    component: y(role),
    namespace: y(config.namespace),
    annotations: annotated ? y(scrapeAnnotations(scrape)) : false,
    image: y(image),
    runAsUser,
    hasPullSecrets: pullSecrets.length > 0,
    pullSecrets: y(pullSecrets.map((secret) => ({ name: secret }))),
    livenessPath: y(health.liveness),
    readinessPath: y(health.readiness),
    resources: cleanResources(resources),
  };
}

function persistenceView(p: { enabled: boolean; storageClass?: string; size: string }): PersistenceView | false {
  return p.enabled ? { storageClass: p.storageClass ? y(p.storageClass) : false, size: y(p.size) } : false;
}

/** What the Prometheus config's pod discovery keeps and relabels (templates/prometheus.yaml.mustache). */
export function scrapeAnnotations(scrape: { port: number; path: string }): Record<string, string> {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(scrape.port),
    'prometheus.io/path': scrape.path,
  };
}

/** Go's soft memory limit at 80% of the container's, so the heap gives way before the OOM killer strikes. */
export function goMemLimit(limit: string | undefined): string | undefined {
  const bytes = limit === undefined ? undefined : wholeUnits(limit);
  return bytes === undefined ? undefined : `${Math.floor((bytes * 0.8) / 1024 / 1024)}MiB`;
}

export function natsUrl(config: Config): string {
  return `nats://nats.${config.namespace}.svc:${config.nats.clientPort}`;
}

export function namespaceView(config: Config): NamespaceView {
  return { namespace: y(config.namespace) };
}

export function componentView(config: Config, component: Component, images: ImageOverrides = {}): ComponentView {
  const appSecret = component.appSecret && Object.keys(config.secrets.data).length > 0;
  // The variables the Demon apps actually read, then the user's own (which may override).
  const env = { NATS_URL: natsUrl(config), RITUAL_STREAM_NAME: config.nats.streamName, ...component.env };
  return {
    ...podView(
      config,
      component.name,
      'service',
      images[component.name] ?? component.image,
      component.runAsUser,
      component.health,
      component.resources,
      component.metrics && { port: component.metrics.port ?? component.port, path: component.metrics.path },
    ),
    port: component.port,
    replicas: component.replicas,
    env: y(Object.entries(env).map(([name, value]) => ({ name, value }))),
    appSecret: appSecret ? y(config.secrets.name) : false,
  };
}

export function natsView(config: Config, images: ImageOverrides = {}): NatsView {
  const { nats } = config;
  // Independent of monitoring.enabled for the same reason as the annotations: no NATS restart
  // when monitoring is turned on or off.
  const exporter = nats.exporter.enabled ? nats.exporter : undefined;
  const memLimit = goMemLimit(nats.resources.limits.memory);
  const scrape = exporter && { port: exporter.port, path: '/metrics' };
  return {
    ...podView(
      config,
      'nats',
      'messaging',
      images.nats ?? nats.image,
      nats.runAsUser,
      nats.health,
      nats.resources,
      scrape,
    ),
    clientPort: nats.clientPort,
    monitorPort: nats.monitorPort,
    maxMemoryBytes: quantityToBytes(nats.jetstream.maxMemory),
    maxFileBytes: quantityToBytes(nats.jetstream.maxFile),
    persistence: persistenceView(nats.persistence),
    goMemLimit: memLimit ? y(memLimit) : false,
    exporter: exporter
      ? {
          image: y(exporter.image),
          port: exporter.port,
          // varz: the server; jsz=all: JetStream down to streams; healthz: its health as a metric.
          args: y([`-port=${exporter.port}`, '-varz', '-jsz=all', '-healthz', `http://localhost:${nats.monitorPort}`]),
        }
      : false,
  };
}

/** Prometheus' scrape interval: the smoke's target check waits up to two of them. */
export const SCRAPE_INTERVAL = '15s';

// The official images' own users, so their data directories stay writable.
const PROMETHEUS_UID = 65534;
const GRAFANA_UID = 472;

export function prometheusView(config: Config, images: ImageOverrides = {}): PrometheusView {
  const p = config.monitoring.prometheus;
  return {
    ...podView(config, 'prometheus', 'monitoring', images.prometheus ?? p.image, PROMETHEUS_UID, p.health, p.resources),
    port: p.port,
    retention: p.retention,
    persistence: persistenceView(p.persistence),
    namespaces: y([config.namespace]),
    scrapeInterval: y(SCRAPE_INTERVAL),
  };
}

export const GRAFANA_SECRET = 'grafana-admin';

export function grafanaView(config: Config, images: ImageOverrides = {}): GrafanaView {
  const g = config.monitoring.grafana;
  return {
    ...podView(config, 'grafana', 'monitoring', images.grafana ?? g.image, GRAFANA_UID, g.health, g.resources),
    port: g.port,
    portString: y(String(g.port)),
    servicePort: g.servicePort,
    adminUser: y(g.adminUser),
    adminSecret: y(GRAFANA_SECRET),
    prometheusUrl: y(`http://prometheus.${config.namespace}.svc:${config.monitoring.prometheus.port}`),
    datasourceUid: y(DATASOURCE_UID),
    dashboard: y(JSON.stringify(starterDashboard(config), null, 2)),
    persistence: persistenceView(g.persistence),
  };
}

export function ingressView(config: Config): IngressView {
  const { ingress } = config;
  const target = config.components.find((c) => c.name === ingress.component)!;
  return {
    name: y('demon'),
    component: y('ingress'),
    namespace: y(config.namespace),
    className: ingress.className ? y(ingress.className) : false,
    host: ingress.host ? y(ingress.host) : false,
    tls: Boolean(ingress.tlsSecret),
    tlsSecret: y(ingress.tlsSecret ?? ''),
    service: y(target.name),
    port: target.port,
  };
}
