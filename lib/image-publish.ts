/**
 * Publishing built images: registry credentials from the config, log in, and the per-image
 * chain build -> push (digest from the push's own output) -> verify in the registry API.
 * Images run through the chain concurrently, one bound for builds and one for pushes (a push
 * slot pushes one image: its first tag, which uploads the layers, then its other tags at once,
 * which only add manifests), so an image pushes while the next one builds; each image's own
 * order never changes.
 */
import { buildImage, dockerVerdict, push } from './docker.ts';
import { CommandError } from './exec.ts';
import { parseImageRef } from './image-ref.ts';
import { registryEntryFor, tagsFor, type ImageJob } from './image-jobs.ts';
import type { ImagesContext } from './images.ts';
import { limiter, settleAll } from './pool.ts';
import { headManifest, type Credentials } from './registry.ts';

export function credentials(c: ImagesContext, registry: string): { credentials: Credentials; from: string } | undefined {
  const entry = registryEntryFor(c.config, registry);
  const username = entry && c.session.env[entry.usernameEnv];
  const password = entry && c.session.env[entry.passwordEnv];
  return entry && username && password ? { credentials: { username, password }, from: `${entry.usernameEnv} / ${entry.passwordEnv}` } : undefined;
}

/** Push with our private login when we have credentials for the registry, else docker's own. */
function pushEnv(c: ImagesContext, job: ImageJob): Record<string, string> {
  return c.dockerConfig && credentials(c, job.registry) ? { DOCKER_CONFIG: c.dockerConfig } : {};
}

export async function digestExists(c: ImagesContext, job: ImageJob, digest: string, attempts = 1): Promise<boolean> {
  const auth = credentials(c, job.registry);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const answer = await headManifest(parseImageRef(`${job.repository}@${digest}`), auth?.credentials);
    if (answer.status === 200) return true;
    // Registries can lag right after a push ("manifest unknown"): retry briefly.
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
  return false;
}

const refsFor = (c: ImagesContext, job: ImageJob) => tagsFor(job, c.revision!, c.config.build.latest).map((tag) => `${job.repository}:${tag}`);

export function build(c: ImagesContext, job: ImageJob): Promise<void> {
  return buildImage(c.session.runner, job.component, {
    context: job.context, dockerfile: job.dockerfile, args: job.args,
    ...(job.target ? { target: job.target } : {}),
    tags: refsFor(c, job),
  }, c.session.redactor);
}

/**
 * Pushes the first tag, which uploads the layers, then the other tags at once: they only add
 * a manifest. Every tag must report the same digest.
 */
async function pushTags(c: ImagesContext, job: ImageJob): Promise<string> {
  const [primary, ...others] = refsFor(c, job);
  try {
    const digest = await push(c.session.runner, primary!, pushEnv(c, job), c.session.redactor);
    const again = await settleAll(others.map((ref) => push(c.session.runner, ref, pushEnv(c, job), c.session.redactor)));
    again.forEach((other, i) => {
      if (other !== digest) throw new Error(`pushing ${others[i]} gave digest ${other}, but ${primary} gave ${digest}`);
    });
    return digest;
  } catch (error) {
    const auth = credentials(c, job.registry);
    const verdict = error instanceof CommandError ? dockerVerdict(error, { image: primary!, registry: job.registry, operation: 'push', ...(auth ? { credentialsFrom: auth.from } : {}) }) : undefined;
    throw verdict ? new Error(`pushing ${job.component}: ${verdict.sentence}`) : error;
  }
}

const STOPPED = Symbol('stopped after another image failed');

/**
 * Build, push and verify every image still to do; records each verified digest in
 * `c.digests`. After a failure no further image starts (a build can take minutes and the run
 * fails anyway); those already running finish, and the first failure is what is reported.
 */
export async function publish(c: ImagesContext): Promise<void> {
  const errors: unknown[] = [];
  // A failure is recorded before its slot is released, so the waiter that gets the slot sees it.
  const stage = (limit: ReturnType<typeof limiter>) => <R>(work: () => Promise<R>) =>
    limit(async () => {
      if (errors.length) throw STOPPED;
      try {
        return await work();
      } catch (error) {
        errors.push(error);
        throw STOPPED;
      }
    });
  const builds = stage(limiter(c.config.build.parallelism));
  const pushes = stage(limiter(c.config.build.parallelism));
  await Promise.all(c.todo.map(async (job) => {
    try {
      await builds(() => build(c, job));
      const digest = await pushes(() => pushTags(c, job));
      if (!(await digestExists(c, job, digest, 4))) throw new Error(`${job.repository}@${digest} is not in the registry after the push; run again, and check the registry's logs if it persists`);
      c.digests.set(job.component, digest);
    } catch (error) {
      if (error !== STOPPED) errors.push(error);
    }
  }));
  if (errors.length) throw errors[0];
}
