/**
 * Checks before anything changes: the tools are on PATH (with how to install them), the docker
 * daemon answers when kind needs it, and every credential env var is set. All problems are
 * reported at once, as a UsageError (exit 2): nothing has been touched yet.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { Runner } from '../core/exec.ts';
import type { Config } from '../config/schema.ts';
import { requiredEnv } from '../render/secrets.ts';

export const INSTALL_HINTS: Record<string, string> = {
  kubectl: 'install kubectl: https://kubernetes.io/docs/tasks/tools/',
  kind: 'install kind: `go install sigs.k8s.io/kind@latest` or https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  docker: 'install Docker: https://docs.docker.com/engine/install/ (Debian: apt-get install docker.io)',
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

export function toolsFor(config: Config): string[] {
  return config.cluster.provider === 'kind' ? ['kubectl', 'kind', 'docker'] : ['kubectl'];
}

export function missingTools(tools: string[], path: string | undefined): string[] {
  return tools.filter((tool) => !findOnPath(tool, path)).map((tool) => `${tool} is not on PATH; ${INSTALL_HINTS[tool] ?? `install ${tool}`}`);
}

export function missingEnv(config: Config, env: Record<string, string | undefined>): string[] {
  return requiredEnv(config)
    .filter(({ name }) => !env[name])
    .map(({ name, neededBy }) => `${name} is ${env[name] === '' ? 'empty' : 'not set'} (needed by ${neededBy}); export it before running`);
}

/** Throws one UsageError listing every missing tool and (unless told otherwise) env var. */
export function checkLocal(config: Config, env: Record<string, string | undefined>, needs = { credentials: true }): void {
  const problems = [...missingTools(toolsFor(config), env.PATH), ...(needs.credentials ? missingEnv(config, env) : [])];
  if (problems.length) throw new UsageError('preflight found problems (nothing was changed)', problems);
}

/** kind runs its nodes as docker containers, so the daemon must answer, not just the CLI (exit 1, like an unreachable cluster). */
export async function checkDockerDaemon(runner: Runner): Promise<string> {
  const result = await runner.exec(['docker', 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split('\n').pop() ?? '';
    throw new Error(`the docker daemon is not reachable (${reason || `exit ${result.exitCode}`}); start Docker (or set DOCKER_HOST) and run again`);
  }
  return `docker ${result.stdout.trim()}`;
}
