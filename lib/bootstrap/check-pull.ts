/**
 * --check-pull: before anything is deployed, asks each registry, with the very credentials
 * that go into the pull Secrets, whether every image the manifests reference exists, and
 * turns each answer into the fix (lib/tools/registry-verdict.ts).
 */
import { formatImageRef, normalizeRegistry, parseImageRef } from '../tools/image-ref.ts';
import { isWorkload, type K8sObject } from '../render/manifests.ts';
import { headManifest, registryAuth, type RegistryAuth, type RegistryClientOptions } from '../tools/registry.ts';
import { verdictFor, type Verdict } from '../tools/registry-verdict.ts';
import type { Config } from '../config/schema.ts';

export interface PullCheck {
  workload: string;
  image: string;
  verdict: Verdict;
}

interface PodTemplateOwner {
  metadata: { name: string };
  spec: { template: { spec: { containers: { image: string }[]; initContainers?: { image: string }[] } } };
}

/** Every (workload, image) pair of the rendered workloads. */
export function imagesOf(objects: K8sObject[]): { workload: string; image: string }[] {
  return objects.filter(isWorkload).flatMap((o) => {
    const pod = (o as unknown as PodTemplateOwner).spec.template.spec;
    return [...(pod.initContainers ?? []), ...pod.containers].map((c) => ({
      workload: o.metadata.name,
      image: c.image,
    }));
  });
}

/** The credentials a workload's pull Secret holds for an image's registry, if any. */
export function credentialsFor(
  config: Config,
  env: Record<string, string | undefined>,
  workload: string,
  image: string,
): RegistryAuth | undefined {
  const registry = parseImageRef(image).registry;
  return registryAuth(
    config.registries.find((r) => r.appliesTo.includes(workload) && normalizeRegistry(r.server) === registry),
    env,
  );
}

export async function checkPulls(
  config: Config,
  objects: K8sObject[],
  env: Record<string, string | undefined>,
  options: RegistryClientOptions = {},
  onNodes: ReadonlySet<string> = new Set(),
): Promise<PullCheck[]> {
  return Promise.all(
    imagesOf(objects)
      .filter(({ image }) => !onNodes.has(image))
      .map(async ({ workload, image }) => {
        const ref = parseImageRef(image);
        const auth = credentialsFor(config, env, workload, image);
        const answer = await headManifest(ref, auth?.credentials, options);
        const verdict = verdictFor(answer, {
          image: formatImageRef(ref),
          registry: ref.registry,
          operation: 'pull',
          ...(auth ? { credentialsFrom: auth.from } : {}),
        });
        return { workload, image, verdict };
      }),
  );
}

/**
 * Images a lock pins by tag were `kind load`ed onto the nodes (build-images --no-push --load):
 * no registry holds them, and the kubelet does not pull them (IfNotPresent), so on kind they
 * are not looked up. On any other cluster they must be pullable like every other image.
 */
export function loadedIntoKind(provider: 'kind' | 'existing', pinned: Record<string, string>): Set<string> {
  return new Set(provider === 'kind' ? Object.values(pinned).filter((ref) => !ref.includes('@')) : []);
}

/** Throws one error listing every image that cannot be pulled; returns a summary otherwise. */
export function assertPullable(checks: PullCheck[], loaded = 0): string {
  const failed = checks.filter((c) => c.verdict.kind !== 'ok');
  if (failed.length) {
    throw new Error(
      `${failed.length} of ${checks.length} images cannot be pulled:\n${failed.map((c) => `  ${c.workload}: ${c.verdict.sentence}`).join('\n')}`,
    );
  }
  return `${checks.length} images found${loaded ? `, ${loaded} loaded into kind (not looked up)` : ''}`;
}
