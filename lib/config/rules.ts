/** Config rules that span several keys; each names the key to change. */
import type { Config } from './schema.ts';

export interface Problem {
  path: PropertyKey[];
  message: string;
}

export const MONITORING_WORKLOADS = ['prometheus', 'grafana'] as const;

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

  if (cluster.provider === 'existing' && !cluster.context) {
    problems.push({ path: ['cluster', 'context'], message: 'is required when provider is "existing" (name the kubeconfig context to deploy to, e.g. from `kubectl config get-contexts`)' });
  }

  const componentNames = components.map((c) => c.name);
  const repeated = duplicates(componentNames);
  components.forEach((component, index) => {
    if (repeated.has(component.name)) problems.push({ path: ['components', index, 'name'], message: `"${component.name}" is used by more than one component; names must be unique` });
    if (component.name === 'nats' || (MONITORING_WORKLOADS as readonly string[]).includes(component.name)) {
      problems.push({ path: ['components', index, 'name'], message: `"${component.name}" is reserved for the built-in workload; pick another name` });
    }
  });

  const registryNames = duplicates(registries.map((r) => r.name));
  const workloads = workloadNames(config);
  registries.forEach((registry, index) => {
    if (registryNames.has(registry.name)) problems.push({ path: ['registries', index, 'name'], message: `"${registry.name}" is used by more than one registry; names must be unique` });
    registry.appliesTo.forEach((name, j) => {
      if (!workloads.has(name)) {
        problems.push({ path: ['registries', index, 'appliesTo', j], message: `"${name}" is not a component; use one of: ${[...workloads.keys()].join(', ')}` });
      }
    });
    const deployed = registry.appliesTo.filter((name) => workloads.get(name));
    if (registry.appliesTo.every((name) => workloads.has(name)) && deployed.length === 0) {
      problems.push({ path: ['registries', index, 'appliesTo'], message: 'names only workloads that are not deployed (monitoring.enabled is false), so its pull Secret would be used by no pod; enable monitoring or add a deployed component' });
    }
  });

  if (ingress.enabled) {
    if (!componentNames.includes(ingress.component)) problems.push({ path: ['ingress', 'component'], message: `"${ingress.component}" is not a component; use one of: ${componentNames.join(', ')}` });
    if (ingress.tlsSecret && !ingress.host) problems.push({ path: ['ingress', 'host'], message: 'is required when ingress.tlsSecret is set (TLS certificates are issued for a host name)' });
  }

  if (Object.keys(secrets.data).length > 0 && !components.some((c) => c.appSecret)) {
    problems.push({ path: ['secrets', 'data'], message: 'defines an app Secret that no component loads; set appSecret: true on the components that need it, or remove secrets.data' });
  }
  return problems;
}
