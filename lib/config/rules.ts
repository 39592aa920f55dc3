/** Config rules that span several keys; each names the key to change. */
import { formatBytes, wholeUnits } from './quantity.ts';
import type { Config } from './schema.ts';

export interface Problem {
  path: PropertyKey[];
  message: string;
}

export const MONITORING_WORKLOADS = ['prometheus', 'grafana'] as const;

/** Names the stack's own objects take: a component (a Service and a Deployment) may not take them. */
export const RESERVED_COMPONENT_NAMES = ['nats', 'nats-headless', ...MONITORING_WORKLOADS];
/** The Grafana admin Secret's name (render/views.ts), and the pull Secrets' prefix. */
export const RESERVED_SECRET_NAMES = ['grafana-admin'];
export const PULL_SECRET_PREFIX = 'demon-pull-';

/** Namespaces that belong to the cluster itself; `default` is allowed only on request. */
const SYSTEM_NAMESPACE = /^kube-/;

/** NATS needs room beyond its memory store: Go's heap, connections, the file store's cache. */
export const NATS_HEADROOM = { factor: 1.6, fixedBytes: 32 * 1024 * 1024 };

export function natsMemoryNeeded(maxMemoryBytes: number): number {
  return Math.ceil(maxMemoryBytes * NATS_HEADROOM.factor + NATS_HEADROOM.fixedBytes);
}

/** Every workload name a registry's appliesTo may name, with whether it is deployed. */
export function workloadNames(config: Config): Map<string, boolean> {
  const names = new Map<string, boolean>([['nats', true]]);
  for (const component of config.components) names.set(component.name, true);
  for (const name of MONITORING_WORKLOADS) names.set(name, config.monitoring.enabled);
  return names;
}

function duplicates(values: string[]): Set<string> {
  return new Set(values.filter((value, index) => values.indexOf(value) !== index));
}

export function crossFieldProblems(config: Config): Problem[] {
  const problems: Problem[] = [];
  const { cluster, components, registries, ingress, secrets } = config;

  if (SYSTEM_NAMESPACE.test(config.namespace)) {
    problems.push({
      path: ['namespace'],
      message: `"${config.namespace}" belongs to the cluster itself (kube-*); deploy the stack to a namespace of its own`,
    });
  } else if (config.namespace === 'default' && !config.allowDefaultNamespace) {
    problems.push({
      path: ['namespace'],
      message:
        '"default" is shared by everything that names no namespace; use a namespace of its own, or set allowDefaultNamespace: true if you mean it',
    });
  }

  if (cluster.provider === 'existing' && !cluster.context) {
    problems.push({
      path: ['cluster', 'context'],
      message:
        'is required when provider is "existing" (name the kubeconfig context to deploy to, e.g. from `kubectl config get-contexts`)',
    });
  }

  const componentNames = components.map((c) => c.name);
  const repeated = duplicates(componentNames);
  components.forEach((component, index) => {
    if (repeated.has(component.name))
      problems.push({
        path: ['components', index, 'name'],
        message: `"${component.name}" is used by more than one component; names must be unique`,
      });
    if (RESERVED_COMPONENT_NAMES.includes(component.name)) {
      problems.push({
        path: ['components', index, 'name'],
        message: `"${component.name}" is reserved for the stack's own objects (${RESERVED_COMPONENT_NAMES.join(', ')}); pick another name`,
      });
    }
  });

  const registryNames = duplicates(registries.map((r) => r.name));
  const workloads = workloadNames(config);
  registries.forEach((registry, index) => {
    if (registryNames.has(registry.name))
      problems.push({
        path: ['registries', index, 'name'],
        message: `"${registry.name}" is used by more than one registry; names must be unique`,
      });
    registry.appliesTo.forEach((name, j) => {
      if (!workloads.has(name)) {
        problems.push({
          path: ['registries', index, 'appliesTo', j],
          message: `"${name}" is not a component; use one of: ${[...workloads.keys()].join(', ')}`,
        });
      }
    });
    const deployed = registry.appliesTo.filter((name) => workloads.get(name));
    if (registry.appliesTo.every((name) => workloads.has(name)) && deployed.length === 0) {
      problems.push({
        path: ['registries', index, 'appliesTo'],
        message:
          'names only workloads that are not deployed (monitoring.enabled is false), so its pull Secret would be used by no pod; enable monitoring or add a deployed component',
      });
    }
  });

  if (ingress.enabled) {
    if (!componentNames.includes(ingress.component))
      problems.push({
        path: ['ingress', 'component'],
        message: `"${ingress.component}" is not a component; use one of: ${componentNames.join(', ')}`,
      });
    if (ingress.tlsSecret && !ingress.host)
      problems.push({
        path: ['ingress', 'host'],
        message: 'is required when ingress.tlsSecret is set (TLS certificates are issued for a host name)',
      });
  }

  if (RESERVED_SECRET_NAMES.includes(secrets.name) || secrets.name.startsWith(PULL_SECRET_PREFIX)) {
    problems.push({
      path: ['secrets', 'name'],
      message: `"${secrets.name}" is the name of one of the stack's own Secrets (grafana-admin, ${PULL_SECRET_PREFIX}<registry>); pick another name`,
    });
  }

  const limit =
    config.nats.resources.limits.memory === undefined ? undefined : wholeUnits(config.nats.resources.limits.memory);
  const store = wholeUnits(config.nats.jetstream.maxMemory);
  if (limit !== undefined && store !== undefined && natsMemoryNeeded(store) > limit) {
    const room = Math.max(0, Math.floor((limit - NATS_HEADROOM.fixedBytes) / NATS_HEADROOM.factor));
    problems.push({
      path: ['nats', 'jetstream', 'maxMemory'],
      message:
        `${formatBytes(store)} of memory store needs a container memory limit of at least ${formatBytes(natsMemoryNeeded(store))} ` +
        `(${NATS_HEADROOM.factor} x the store + ${formatBytes(NATS_HEADROOM.fixedBytes)} for the server itself), but nats.resources.limits.memory is ${formatBytes(limit)}: ` +
        `NATS would be OOMKilled once the store fills; lower maxMemory to at most ${formatBytes(room)} or raise the limit`,
    });
  }

  if (Object.keys(secrets.data).length > 0 && !components.some((c) => c.appSecret)) {
    problems.push({
      path: ['secrets', 'data'],
      message:
        'defines an app Secret that no component loads; set appSecret: true on the components that need it, or remove secrets.data',
    });
  }
  return problems;
}
