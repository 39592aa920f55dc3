/**
 * The build-images step list: preflight -> source -> build -> log in -> push -> verify -> lock
 * (or, with --no-push --load, build -> kind load -> lock pinned by tag). Images whose content
 * hash matches the lock and whose pinned digest still exists are neither built nor pushed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash } from './content-hash.ts';
import { buildImage, dockerVerdict, imageId, login, push } from './docker.ts';
import { UsageError } from './errors.ts';
import { CommandError, run } from './exec.ts';
import { sourceRevision, type SourceRevision } from './git.ts';
import { parseImageRef } from './image-ref.ts';
import { assertJobs, imageJobs, missingPushCredentials, pathProblems, registryEntryFor, sourceDir, tagsFor, type ImageJob } from './image-jobs.ts';
import { readLock, writeLock, type Lock, type LockedImage } from './lock.ts';
import { mapLimit } from './pool.ts';
import { checkDockerDaemon, missingTools } from './preflight.ts';
import { headManifest, type Credentials } from './registry.ts';
import type { Config } from './schema.ts';
import type { Session } from './session.ts';
import type { Step } from './steps.ts';

export interface ImagesOptions {
  push: boolean;
  load: boolean;
  force: boolean;
  lockFile: string;
  branch?: string;
}

export interface ImagesContext {
  config: Config;
  configFile: string;
  session: Session;
  options: ImagesOptions;
  jobs: ImageJob[];
  previous?: Lock;
  revision?: SourceRevision;
  hashes: Map<string, string>;
  todo: ImageJob[];
  digests: Map<string, string>;
  /** A private docker config for logins, removed at the end so no credential stays on disk. */
  dockerConfig?: string;
  builtAt: string;
}

function credentials(c: ImagesContext, registry: string): { credentials: Credentials; from: string } | undefined {
  const entry = registryEntryFor(c.config, registry);
  const username = entry && c.session.env[entry.usernameEnv];
  const password = entry && c.session.env[entry.passwordEnv];
  return entry && username && password ? { credentials: { username, password }, from: `${entry.usernameEnv} / ${entry.passwordEnv}` } : undefined;
}

/** Push with our private login when we have credentials for the registry, else docker's own. */
function pushEnv(c: ImagesContext, job: ImageJob): Record<string, string> {
  return c.dockerConfig && credentials(c, job.registry) ? { DOCKER_CONFIG: c.dockerConfig } : {};
}

async function digestExists(c: ImagesContext, job: ImageJob, digest: string, attempts = 1): Promise<boolean> {
  const auth = credentials(c, job.registry);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const answer = await headManifest(parseImageRef(`${job.repository}@${digest}`), auth?.credentials);
    if (answer.status === 200) return true;
    // Registries can lag right after a push ("manifest unknown"): retry briefly.
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
  return false;
}

export const imagesPreflight: Step<ImagesContext> = {
  name: 'preflight',
  async run(c) {
    assertJobs(c.jobs);
    const problems = [
      ...missingTools(c.options.load ? ['docker', 'git', 'kind'] : ['docker', 'git'], c.session.env.PATH),
      ...pathProblems(c.config, c.configFile, c.jobs),
      ...(c.options.push ? missingPushCredentials(c.config, c.jobs, c.session.env) : []),
    ];
    if (problems.length) throw new UsageError('preflight found problems (nothing was built or pushed)', problems);
    c.previous = readLock(c.options.lockFile);
    for (const job of c.jobs) {
      const auth = credentials(c, job.registry);
      if (auth) c.session.redactor.add(auth.credentials.password, c.session.onGithubActions);
    }
    return `${await checkDockerDaemon(c.session.runner)}, ${c.jobs.length} images to consider`;
  },
};

export const imagesSource: Step<ImagesContext> = {
  name: 'source',
  async run(c) {
    const dir = sourceDir(c.config, c.configFile);
    try {
      c.revision = await sourceRevision(c.session.runner, dir, c.options.branch);
    } catch (error) {
      throw new UsageError(`build.source ${dir} is not a git checkout (the sha-<7> tag needs its commit): ${(error as Error).message.split('\n').pop()}`);
    }
    const unchanged: string[] = [];
    for (const job of c.jobs) {
      const hash = contentHash({ context: job.context, dockerfile: job.dockerfile, args: job.args, ...(job.target ? { target: job.target } : {}) });
      c.hashes.set(job.component, hash);
      const locked = c.previous?.images[job.component];
      const same = !c.options.force && locked?.contentHash === hash && locked.repository === job.repository;
      const stillThere = same && (c.options.push ? locked.pinned.includes('@') && (await digestExists(c, job, locked.digest)) : (await c.session.runner.exec(['docker', 'image', 'inspect', locked.pinned])).exitCode === 0);
      if (stillThere) unchanged.push(job.component);
      else c.todo.push(job);
    }
    return `commit ${c.revision.short}${c.revision.branch ? ` on ${c.revision.branch}` : ''}; ${c.todo.length} to build${unchanged.length ? `, unchanged: ${unchanged.join(', ')}` : ''}`;
  },
};

export const imagesBuild: Step<ImagesContext> = {
  name: 'build',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    await mapLimit(c.todo, c.config.build.parallelism, (job) =>
      buildImage(c.session.runner, job.component, {
        context: job.context, dockerfile: job.dockerfile, args: job.args,
        ...(job.target ? { target: job.target } : {}),
        tags: tagsFor(job, c.revision!, c.config.build.latest).map((tag) => `${job.repository}:${tag}`),
      }, c.session.redactor));
    return `built ${c.todo.map((j) => j.component).join(', ')}`;
  },
};

export const imagesLogin: Step<ImagesContext> = {
  name: 'log in',
  async run(c) {
    const registries = [...new Set(c.todo.map((job) => job.registry))].filter((registry) => credentials(c, registry));
    if (registries.length === 0) return c.todo.length ? "no credentials configured: pushing with docker's own login" : 'nothing to push';
    c.dockerConfig = mkdtempSync(join(tmpdir(), 'demon-docker-'));
    for (const registry of registries) {
      const auth = credentials(c, registry)!;
      const entry = registryEntryFor(c.config, registry)!;
      try {
        await login(c.session.runner, entry.server, auth.credentials.username, auth.credentials.password, { DOCKER_CONFIG: c.dockerConfig }, c.session.redactor);
      } catch (error) {
        const verdict = error instanceof CommandError ? dockerVerdict(error, { image: registry, registry, operation: 'push', credentialsFrom: auth.from }) : undefined;
        throw verdict ? new Error(`logging in to ${registry}: ${verdict.sentence}`) : error;
      }
    }
    return `logged in to ${registries.join(', ')}`;
  },
};

export const imagesPush: Step<ImagesContext> = {
  name: 'push',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    await mapLimit(c.todo, c.config.build.parallelism, async (job) => {
      const [primary, ...others] = tagsFor(job, c.revision!, c.config.build.latest).map((tag) => `${job.repository}:${tag}`);
      try {
        const digest = await push(c.session.runner, primary!, pushEnv(c, job), c.session.redactor);
        for (const ref of others) {
          const again = await push(c.session.runner, ref, pushEnv(c, job), c.session.redactor);
          if (again !== digest) throw new Error(`pushing ${ref} gave digest ${again}, but ${primary} gave ${digest}`);
        }
        c.digests.set(job.component, digest);
      } catch (error) {
        const auth = credentials(c, job.registry);
        const verdict = error instanceof CommandError ? dockerVerdict(error, { image: primary!, registry: job.registry, operation: 'push', ...(auth ? { credentialsFrom: auth.from } : {}) }) : undefined;
        throw verdict ? new Error(`pushing ${job.component}: ${verdict.sentence}`) : error;
      }
    });
    return `pushed ${c.todo.map((j) => `${j.component}@${c.digests.get(j.component)!.slice(7, 19)}`).join(', ')}`;
  },
};

export const imagesVerify: Step<ImagesContext> = {
  name: 'verify digests',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    for (const job of c.todo) {
      const digest = c.digests.get(job.component)!;
      if (!(await digestExists(c, job, digest, 4))) throw new Error(`${job.repository}@${digest} is not in the registry after the push; run again, and check the registry's logs if it persists`);
    }
    return `${c.todo.length} digests present in the registry`;
  },
};

export const imagesKindLoad: Step<ImagesContext> = {
  name: 'kind load',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    for (const job of c.todo) {
      const ref = `${job.repository}:sha-${c.revision!.short}`;
      await run(c.session.runner, ['kind', 'load', 'docker-image', ref, '--name', c.config.cluster.name], { timeoutMs: 10 * 60_000 }, c.session.redactor);
      c.digests.set(job.component, await imageId(c.session.runner, ref, c.session.redactor));
    }
    return `loaded into kind cluster ${c.config.cluster.name}, pinned by tag (kind load and digest references do not mix, kind#4028)`;
  },
};

export const imagesLock: Step<ImagesContext> = {
  name: 'lock',
  async run(c) {
    const images: Record<string, LockedImage> = {};
    for (const job of c.jobs) {
      const digest = c.digests.get(job.component);
      if (!digest) {
        if (c.previous?.images[job.component]) images[job.component] = c.previous.images[job.component]!;
        continue;
      }
      const tags = tagsFor(job, c.revision!, c.config.build.latest);
      images[job.component] = {
        repository: job.repository,
        tags,
        digest,
        pinned: c.options.push ? `${job.repository}@${digest}` : `${job.repository}:${tags[0]}`,
        sourceCommit: c.revision!.commit,
        builtAt: c.builtAt,
        contentHash: c.hashes.get(job.component)!,
      };
    }
    if (c.todo.length === 0 && c.previous) return `${c.options.lockFile} unchanged`;
    writeLock(c.options.lockFile, { version: 1, images });
    return `wrote ${c.options.lockFile}`;
  },
};

export function imagesSteps(options: ImagesOptions): Step<ImagesContext>[] {
  if (options.push) return [imagesPreflight, imagesSource, imagesBuild, imagesLogin, imagesPush, imagesVerify, imagesLock];
  if (options.load) return [imagesPreflight, imagesSource, imagesBuild, imagesKindLoad, imagesLock];
  // Built locally only: nothing was pushed or loaded, so there is nothing to pin.
  return [imagesPreflight, imagesSource, imagesBuild];
}

export function imagesContext(config: Config, configFile: string, session: Session, options: ImagesOptions, now = new Date()): ImagesContext {
  return { config, configFile, session, options, jobs: imageJobs(config, configFile), hashes: new Map(), todo: [], digests: new Map(), builtAt: now.toISOString() };
}

/** Removes the private docker config with its login, whatever happened. */
export function cleanupImages(c: ImagesContext): void {
  if (c.dockerConfig) rmSync(c.dockerConfig, { recursive: true, force: true });
}
