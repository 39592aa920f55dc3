/**
 * Checks before anything changes, all reported at once: the tools are on PATH (with how to
 * install them), the docker daemon answers when kind needs it, and every credential env var
 * is set. Any missing tool or value makes it a UsageError (exit 2: nothing was touched);
 * a docker daemon that is down, alone, is an operation that failed (exit 1).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { Runner } from '../core/exec.ts';
import { requiredEnv } from '../render/secrets.ts';
import type { Provider } from './provider.ts';

export const INSTALL_HINTS: Record<string, string> = {
  kubectl: 'install kubectl: https://kubernetes.io/docs/tasks/tools/',
  kind: 'install kind: `go install sigs.k8s.io/kind@latest` or https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  docker: 'install Docker: https://docs.docker.com/engine/install/ (Debian: apt-get install docker.io)',
  git: 'install git: https://git-scm.com/downloads (Debian: apt-get install git)',
};

/** Finds a tool on PATH without spawning anything. */
export function findOnPath(tool: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function missingTools(tools: string[], path: string | undefined): string[] {
  return tools
    .filter((tool) => !findOnPath(tool, path))
    .map((tool) => `${tool} is not on PATH; ${INSTALL_HINTS[tool] ?? `install ${tool}`}`);
}

export function missingEnv(config: Config, env: Record<string, string | undefined>): string[] {
  return requiredEnv(config)
    .filter(({ name }) => !env[name])
    .map(
      ({ name, neededBy }) =>
        `${name} is ${env[name] === '' ? 'empty' : 'not set'} (needed by ${neededBy}); export it before running`,
    );
}

/** kind runs its nodes as docker containers, so the daemon must answer, not just the CLI. */
export async function dockerDaemon(runner: Runner): Promise<{ version?: string; problem?: string }> {
  const result = await runner.exec(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  if (result.exitCode === 0) return { version: result.stdout.trim() };
  const reason = result.stderr.trim().split('\n').pop() ?? '';
  return {
    problem: `the docker daemon is not reachable (${reason || `exit ${result.exitCode}`}); start Docker (or set DOCKER_HOST) and run again`,
  };
}

export interface PreflightInputs {
  provider?: Pick<Provider, 'tools' | 'name'>;
  config: Config;
  env: Record<string, string | undefined>;
  runner: Runner;
  /** More tools this script calls (the nightly: git; build-images: docker, git). */
  tools?: string[];
  /** Check the credential env vars (teardown does not need them). */
  credentials?: boolean;
  /** Check the docker daemon (kind, and whoever builds images). */
  docker?: boolean;
  /** The caller's own problems (paths, push credentials), reported with the rest. */
  problems?: string[];
}

/** Returns what it found ("docker 20.10.24"); throws with every problem at once. */
export async function preflight(inputs: PreflightInputs): Promise<string[]> {
  const tools = [...new Set([...(inputs.provider?.tools ?? []), ...(inputs.tools ?? [])])];
  const usage = [
    ...missingTools(tools, inputs.env.PATH),
    ...(inputs.credentials === false ? [] : missingEnv(inputs.config, inputs.env)),
    ...(inputs.problems ?? []),
  ];
  const wantsDocker = inputs.docker ?? inputs.provider?.name === 'kind';
  const daemon = wantsDocker && findOnPath('docker', inputs.env.PATH) ? await dockerDaemon(inputs.runner) : {};
  if (usage.length)
    throw new UsageError('preflight found problems (nothing was changed)', [
      ...usage,
      ...(daemon.problem ? [daemon.problem] : []),
    ]);
  if (daemon.problem) throw new Error(daemon.problem);
  return daemon.version ? [`docker ${daemon.version}`] : [];
}
