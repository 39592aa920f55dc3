/**
 * What build-images will build: one job per component with a `build` section, with absolute
 * paths, the repository of its `image`, and the tags to push (sha-<7>, the branch, latest).
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { branchTag, type SourceRevision } from '../tools/git.ts';
import { normalizeRegistry, parseImageRef, repositoryOf } from '../tools/image-ref.ts';
import type { Config, Registry } from '../config/schema.ts';

export interface ImageJob {
  component: string;
  /** e.g. ghcr.io/afewell-hh/demon-runtime, exactly as the config's image spells it. */
  repository: string;
  registry: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

/** Resolves build.source against the config file's directory. */
export function sourceDir(config: Config, configFile: string): string {
  const { source } = config.build;
  return isAbsolute(source) ? source : resolve(configFile, '..', source);
}

export function imageJobs(config: Config, configFile: string): ImageJob[] {
  const source = sourceDir(config, configFile);
  return config.components
    .filter((c) => c.build)
    .map((c) => ({
      component: c.name,
      repository: repositoryOf(c.image),
      registry: parseImageRef(c.image).registry,
      context: resolve(source, c.build!.context),
      dockerfile: resolve(source, c.build!.dockerfile),
      args: c.build!.args,
      ...(c.build!.target ? { target: c.build!.target } : {}),
    }));
}

/** Every problem with the jobs' paths at once, naming the setting to change. */
export function pathProblems(config: Config, configFile: string, jobs: ImageJob[]): string[] {
  const source = sourceDir(config, configFile);
  if (!existsSync(source) || !statSync(source).isDirectory()) {
    return [
      `build.source: the Demon checkout ${source} does not exist; clone it there or set build.source in ${configFile}`,
    ];
  }
  const problems: string[] = [];
  jobs.forEach((job) => {
    const index = config.components.findIndex((c) => c.name === job.component);
    if (!existsSync(job.context) || !statSync(job.context).isDirectory())
      problems.push(`components[${index}].build.context: ${job.context} is not a directory`);
    if (!existsSync(job.dockerfile))
      problems.push(`components[${index}].build.dockerfile: ${job.dockerfile} does not exist`);
  });
  return problems;
}

export function tagsFor(revision: SourceRevision, latest: boolean): string[] {
  const tags = [`sha-${revision.short}`];
  if (revision.branch) tags.push(branchTag(revision.branch));
  if (latest) tags.push('latest');
  return [...new Set(tags)];
}

/** The registries entry whose credentials push to (and read from) a registry host. */
export function registryEntryFor(config: Config, registry: string): Registry | undefined {
  return config.registries.find((r) => normalizeRegistry(r.server) === registry);
}

export function missingPushCredentials(
  config: Config,
  jobs: ImageJob[],
  env: Record<string, string | undefined>,
): string[] {
  const problems = new Set<string>();
  for (const job of jobs) {
    const entry = registryEntryFor(config, job.registry);
    if (!entry) continue;
    for (const name of [entry.usernameEnv, entry.passwordEnv])
      if (!env[name])
        problems.add(
          `${name} is ${env[name] === '' ? 'empty' : 'not set'} (needed to push ${job.repository}, registries entry "${entry.name}"); export it, or pass --no-push`,
        );
  }
  return [...problems];
}

export function assertJobs(jobs: ImageJob[]): void {
  if (jobs.length === 0)
    throw new UsageError(
      'no component has a `build` section, so there is nothing to build; add build: {dockerfile: ...} to the components built from source',
    );
}
