/**
 * Which workloads use which Secret, read from the rendered pod templates: imagePullSecrets,
 * envFrom, env valueFrom and secret volumes. The original created Secrets no pod used; here a
 * Secret with no consumer is an error, and a changed Secret restarts exactly its consumers.
 */
import { isWorkload, type K8sObject, type WorkloadRef } from './manifests.ts';

interface PodSpec {
  imagePullSecrets?: { name: string }[];
  containers: Container[];
  initContainers?: Container[];
  volumes?: { secret?: { secretName?: string } }[];
}

interface Container {
  envFrom?: { secretRef?: { name: string } }[];
  env?: { valueFrom?: { secretKeyRef?: { name: string } } }[];
}

function secretsOfPod(pod: PodSpec): Set<string> {
  const names = new Set<string>();
  for (const { name } of pod.imagePullSecrets ?? []) names.add(name);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const source of container.envFrom ?? []) if (source.secretRef) names.add(source.secretRef.name);
    for (const variable of container.env ?? [])
      if (variable.valueFrom?.secretKeyRef) names.add(variable.valueFrom.secretKeyRef.name);
  }
  for (const volume of pod.volumes ?? []) if (volume.secret?.secretName) names.add(volume.secret.secretName);
  return names;
}

/** Secret name -> the workloads whose pods reference it. */
export function secretConsumers(objects: K8sObject[]): Map<string, WorkloadRef[]> {
  const consumers = new Map<string, WorkloadRef[]>();
  for (const object of objects) {
    if (!isWorkload(object)) continue;
    const pod = (object.spec as { template: { spec: PodSpec } }).template.spec;
    for (const name of secretsOfPod(pod)) {
      consumers.set(name, [...(consumers.get(name) ?? []), { kind: object.kind, name: object.metadata.name }]);
    }
  }
  return consumers;
}

/** Throws when a Secret would be created that no pod uses (a bug, or a config the rules missed). */
export function assertSecretsUsed(secrets: K8sObject[], workloads: K8sObject[]): void {
  const consumers = secretConsumers(workloads);
  const unused = secrets.map((s) => s.metadata.name).filter((name) => !consumers.has(name));
  if (unused.length)
    throw new Error(
      `Secret ${unused.join(', ')} would be used by no pod; check registries[].appliesTo and the components' appSecret`,
    );
}
