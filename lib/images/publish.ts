/**
 * Publishing built images: registry credentials from the config, log in, and the per-image
 * chain build -> push (digest from the push's own output) -> verify in the registry API.
 * Images run through the chain concurrently, one bound for builds and one for pushes (a push
 * slot pushes one image: its first tag, which uploads the layers, then its other tags at once,
 * which only add manifests), so an image pushes while the next one builds; each image's own
 * order never changes.
 */
import { buildImage, dockerVerdict, push } from '../tools/docker.ts';
import { CommandError, type Runner } from '../core/exec.ts';
import { limiter, settleAll } from '../core/pool.ts';
import type { Redactor } from '../core/redact.ts';
import { parseImageRef } from '../tools/image-ref.ts';
import { headManifest, type RegistryAuth } from '../tools/registry.ts';
import type { ImageJob } from './jobs.ts';

/** What publishing needs, and nothing else of the build-images run. */
export interface Publisher {
  runner: Runner;
  redactor: Redactor;
  /** Every reference the job is tagged and pushed as; the first one uploads the layers. */
  refsOf(job: ImageJob): string[];
  /** The configured credentials for a registry host, if any. */
  credentialsFor(registry: string): RegistryAuth | undefined;
  /** The private docker config holding our logins (absent: docker's own login is used). */
  dockerConfig?: string;
  /** At most this many builds, and as many pushes, at once. */
  parallelism: number;
}

/** Push with our private login when we have credentials for the registry, else docker's own. */
function pushEnv(p: Publisher, job: ImageJob): Record<string, string> {
  return p.dockerConfig && p.credentialsFor(job.registry) ? { DOCKER_CONFIG: p.dockerConfig } : {};
}

export async function digestExists(
  p: Pick<Publisher, 'credentialsFor'>,
  job: ImageJob,
  digest: string,
  attempts = 1,
): Promise<boolean> {
  const auth = p.credentialsFor(job.registry);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const answer = await headManifest(parseImageRef(`${job.repository}@${digest}`), auth?.credentials);
    if (answer.status === 200) return true;
    // Registries can lag right after a push ("manifest unknown"): retry briefly.
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
  return false;
}

export function build(p: Pick<Publisher, 'runner' | 'redactor' | 'refsOf'>, job: ImageJob): Promise<void> {
  const { context, dockerfile, args, target } = job;
  return buildImage(
    p.runner,
    job.component,
    { context, dockerfile, args, ...(target ? { target } : {}), tags: p.refsOf(job) },
    p.redactor,
  );
}

/**
 * Pushes the first tag, which uploads the layers, then the other tags at once: they only add
 * a manifest. Every tag must report the same digest.
 */
async function pushTags(p: Publisher, job: ImageJob): Promise<string> {
  const [primary, ...others] = p.refsOf(job);
  try {
    const digest = await push(p.runner, primary!, pushEnv(p, job), p.redactor);
    const again = await settleAll(others.map((ref) => push(p.runner, ref, pushEnv(p, job), p.redactor)));
    again.forEach((other, i) => {
      if (other !== digest) throw new Error(`pushing ${others[i]} gave digest ${other}, but ${primary} gave ${digest}`);
    });
    return digest;
  } catch (error) {
    const auth = p.credentialsFor(job.registry);
    const verdict =
      error instanceof CommandError
        ? dockerVerdict(error, {
            image: primary!,
            registry: job.registry,
            operation: 'push',
            ...(auth ? { credentialsFrom: auth.from } : {}),
          })
        : undefined;
    throw verdict ? new Error(`pushing ${job.component}: ${verdict.sentence}`) : error;
  }
}

const STOPPED = Symbol('stopped after another image failed');

/**
 * Builds, pushes and verifies every job; returns each verified digest by component. After a
 * failure no further image starts (a build can take minutes and the run fails anyway); those
 * already running finish, and the first failure is what is reported.
 */
export async function publish(jobs: ImageJob[], p: Publisher): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const errors: unknown[] = [];
  // A failure is recorded before its slot is released, so the waiter that gets the slot sees it.
  const stage =
    (limit: ReturnType<typeof limiter>) =>
    <R>(work: () => Promise<R>) =>
      limit(async () => {
        if (errors.length) throw STOPPED;
        try {
          return await work();
        } catch (error) {
          errors.push(error);
          throw STOPPED;
        }
      });
  const builds = stage(limiter(p.parallelism));
  const pushes = stage(limiter(p.parallelism));
  await Promise.all(
    jobs.map(async (job) => {
      try {
        await builds(() => build(p, job));
        const digest = await pushes(() => pushTags(p, job));
        if (!(await digestExists(p, job, digest, 4))) {
          throw new Error(
            `${job.repository}@${digest} is not in the registry after the push; run again, and check the registry's logs if it persists`,
          );
        }
        digests.set(job.component, digest);
      } catch (error) {
        if (error !== STOPPED) errors.push(error);
      }
    }),
  );
  if (errors.length) throw errors[0];
  return digests;
}
