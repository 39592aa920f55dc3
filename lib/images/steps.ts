/**
 * The build-images step list: preflight -> source -> log in -> build, push, verify (per image,
 * pipelined: lib/images/publish.ts) -> lock (or, with --no-push --load, build -> kind load ->
 * lock pinned by tag). Images whose content hash matches the lock and whose pinned digest
 * still exists are neither built nor pushed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash } from './content-hash.ts';
import { dockerVerdict, imageId, login } from '../tools/docker.ts';
import { UsageError } from '../core/errors.ts';
import { CommandError } from '../core/exec.ts';
import { sourceRevision, type SourceRevision } from '../tools/git.ts';
import { build, digestExists, publish, type Publisher } from './publish.ts';
import {
  assertJobs,
  imageJobs,
  missingPushCredentials,
  pathProblems,
  registryEntryFor,
  sourceDir,
  tagsFor,
  type ImageJob,
} from './jobs.ts';
import { readLock, writeLock, type Lock, type LockedImage } from './lock.ts';
import { mapLimit } from '../core/pool.ts';
import { preflight } from '../tools/preflight.ts';
import { providerFor } from '../tools/provider.ts';
import { registryAuth, type RegistryAuth } from '../tools/registry.ts';
import type { Config } from '../config/schema.ts';
import type { Session } from '../core/session.ts';
import type { Step } from '../core/steps.ts';

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

function credentials(c: ImagesContext, registry: string): RegistryAuth | undefined {
  return registryAuth(registryEntryFor(c.config, registry), c.session.env);
}

/** The part of the run that building and publishing use. */
function publisher(c: ImagesContext): Publisher {
  const { runner, redactor } = c.session;
  return {
    runner,
    redactor,
    refsOf: (job) => tagsFor(c.revision!, c.config.build.latest).map((tag) => `${job.repository}:${tag}`),
    credentialsFor: (registry) => credentials(c, registry),
    ...(c.dockerConfig ? { dockerConfig: c.dockerConfig } : {}),
    parallelism: c.config.build.parallelism,
  };
}

export const imagesPreflight: Step<ImagesContext> = {
  name: 'preflight',
  async run(c) {
    assertJobs(c.jobs);
    for (const job of c.jobs) {
      const auth = credentials(c, job.registry);
      if (auth) c.session.redactor.add(auth.credentials.password);
    }
    const found = await preflight({
      config: c.config,
      env: c.session.env,
      runner: c.session.runner,
      tools: c.options.load ? ['docker', 'git', 'kind'] : ['docker', 'git'],
      credentials: false,
      docker: true,
      problems: [
        ...pathProblems(c.config, c.configFile, c.jobs),
        ...(c.options.push ? missingPushCredentials(c.config, c.jobs, c.session.env) : []),
      ],
    });
    c.previous = readLock(c.options.lockFile);
    return [...found, `${c.jobs.length} images to consider`].join(', ');
  },
};

/** True when the lock already has this content, pushed (or, without a registry, present locally). */
async function stillThere(c: ImagesContext, job: ImageJob, hash: string): Promise<boolean> {
  const locked = c.previous?.images[job.component];
  if (c.options.force || locked?.contentHash !== hash || locked.repository !== job.repository) return false;
  if (c.options.push) return locked.pinned.includes('@') && digestExists(publisher(c), job, locked.digest);
  return (await c.session.runner.exec(['docker', 'image', 'inspect', locked.pinned])).exitCode === 0;
}

export const imagesSource: Step<ImagesContext> = {
  name: 'source',
  async run(c) {
    const dir = sourceDir(c.config, c.configFile);
    try {
      c.revision = await sourceRevision(c.session.runner, dir, c.options.branch);
    } catch (error) {
      throw new UsageError(
        `build.source ${dir} is not a git checkout (the sha-<7> tag needs its commit): ${(error as Error).message.split('\n').pop()}`,
      );
    }
    // Hashing reads files (synchronous); the registry and docker checks then run together.
    const checks = c.jobs.map((job) => {
      const hash = contentHash({
        context: job.context,
        dockerfile: job.dockerfile,
        args: job.args,
        ...(job.target ? { target: job.target } : {}),
      });
      c.hashes.set(job.component, hash);
      return stillThere(c, job, hash);
    });
    const there = await Promise.all(checks);
    const unchanged = c.jobs.filter((_, i) => there[i]).map((job) => job.component);
    c.todo.push(...c.jobs.filter((_, i) => !there[i]));
    const commit = c.revision.branch ? `${c.revision.short} on ${c.revision.branch}` : c.revision.short;
    const skipped = unchanged.length ? `, unchanged: ${unchanged.join(', ')}` : '';
    return `commit ${commit}; ${c.todo.length} to build${skipped}`;
  },
};

export const imagesBuild: Step<ImagesContext> = {
  name: 'build',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    await mapLimit(c.todo, c.config.build.parallelism, (job) => build(publisher(c), job));
    return `built ${c.todo.map((j) => j.component).join(', ')}`;
  },
};

/** Before the builds: a wrong password should fail in a second, not after a long build. */
export const imagesLogin: Step<ImagesContext> = {
  name: 'log in',
  async run(c) {
    const registries = [...new Set(c.todo.map((job) => job.registry))].filter((registry) => credentials(c, registry));
    if (registries.length === 0)
      return c.todo.length ? "no credentials configured: pushing with docker's own login" : 'nothing to push';
    const dockerConfig = mkdtempSync(join(tmpdir(), 'demon-docker-'));
    // Removed however the run ends: success, failure, Ctrl-C or SIGTERM (runMain runs it).
    c.session.defer(() => rmSync(dockerConfig, { recursive: true, force: true }));
    c.dockerConfig = dockerConfig;
    for (const registry of registries) {
      const auth = credentials(c, registry)!;
      const entry = registryEntryFor(c.config, registry)!;
      try {
        await login(
          c.session.runner,
          entry.server,
          auth.credentials.username,
          auth.credentials.password,
          { DOCKER_CONFIG: c.dockerConfig },
          c.session.redactor,
        );
      } catch (error) {
        const verdict =
          error instanceof CommandError
            ? dockerVerdict(error, { image: registry, registry, operation: 'push', credentialsFrom: auth.from })
            : undefined;
        throw verdict ? new Error(`logging in to ${registry}: ${verdict.sentence}`) : error;
      }
    }
    return `logged in to ${registries.join(', ')}`;
  },
};

export const imagesPublish: Step<ImagesContext> = {
  name: 'build, push, verify',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    for (const [component, digest] of await publish(c.todo, publisher(c))) c.digests.set(component, digest);
    return `${c.todo.map((j) => `${j.component}@${c.digests.get(j.component)!.slice(7, 19)}`).join(', ')} pushed, digests present in the registry`;
  },
};

export const imagesKindLoad: Step<ImagesContext> = {
  name: 'kind load',
  async run(c) {
    if (c.todo.length === 0) return 'unchanged';
    for (const job of c.todo) {
      const ref = `${job.repository}:sha-${c.revision!.short}`;
      await providerFor(c.config, c.session.runner, c.session.redactor).load(ref);
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
      const tags = tagsFor(c.revision!, c.config.build.latest);
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
  if (options.push) return [imagesPreflight, imagesSource, imagesLogin, imagesPublish, imagesLock];
  if (options.load) return [imagesPreflight, imagesSource, imagesBuild, imagesKindLoad, imagesLock];
  // Built locally only: nothing was pushed or loaded, so there is nothing to pin.
  return [imagesPreflight, imagesSource, imagesBuild];
}

export function imagesContext(
  config: Config,
  configFile: string,
  session: Session,
  options: ImagesOptions,
  now = new Date(),
): ImagesContext {
  return {
    config,
    configFile,
    session,
    options,
    jobs: imageJobs(config, configFile),
    hashes: new Map(),
    todo: [],
    digests: new Map(),
    builtAt: now.toISOString(),
  };
}
