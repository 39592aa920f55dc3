/**
 * What the e2e suites need from the real cluster harness (tests/e2e/cluster/up.sh): its
 * env.sh contract, the registry password (read from its file, passed on only through env or
 * stdin), and a bounded way to run commands.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE = process.env.DEMON_E2E_STATE ?? '/var/tmp/demon-e2e';

export interface Harness {
  kubeconfig: string;
  context: string;
  registry: string;
  registryUser: string;
  registryPassword: string;
  /** The file holding it (for tools that read a password from a file, never argv). */
  registryPasswordFile: string;
  /** The environment the scripts under test run with. */
  env: Record<string, string>;
}

/** Reads `export KEY=VALUE` lines written by up.sh; fails loudly when the cluster is not up. */
export function harness(): Harness {
  const file = join(STATE, 'env.sh');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run cluster:up\` before \`npm run test:e2e\``);
  const vars = Object.fromEntries(
    [...readFileSync(file, 'utf8').matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
      m[1]!,
      m[2]!.replace(/^"(.*)"$/, '$1'),
    ]),
  );
  const password = readFileSync(vars.DEMON_E2E_REGISTRY_PASSWORD_FILE!, 'utf8').trim();
  return {
    kubeconfig: vars.KUBECONFIG!,
    context: vars.DEMON_E2E_CONTEXT!,
    registry: vars.DEMON_E2E_REGISTRY!,
    registryUser: vars.DEMON_E2E_REGISTRY_USER!,
    registryPassword: password,
    registryPasswordFile: vars.DEMON_E2E_REGISTRY_PASSWORD_FILE!,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      KUBECONFIG: vars.KUBECONFIG!,
      CI: 'true',
      DEMON_E2E_REGISTRY_USER: vars.DEMON_E2E_REGISTRY_USER!,
      DEMON_E2E_REGISTRY_PASSWORD: password,
    },
  };
}

/** kubectl against the harness cluster; returns stdout (throws with stderr on failure). */
export function kubectl(h: Harness, args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', h.kubeconfig, '--context', h.context, ...args], {
    input,
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function kubectlJson<T>(h: Harness, args: string[]): T {
  return JSON.parse(kubectl(h, [...args, '-o', 'json'])) as T;
}

export function deleteNamespace(h: Harness, namespace: string): void {
  spawnSync(
    'kubectl',
    [
      '--kubeconfig',
      h.kubeconfig,
      '--context',
      h.context,
      'delete',
      'namespace',
      namespace,
      '--ignore-not-found',
      '--wait=false',
    ],
    { timeout: 60_000 },
  );
}

/** A name unique to this run, so each test gets its own namespace and image tags. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}
