/**
 * A stand-in Demon checkout for the image pipeline: a real git repository with
 * <component>/Dockerfile and the repository root as build context, like the Demon repo.
 * Each component's Dockerfile is tests/e2e/app's (busybox httpd serving /health), with its
 * port as a build arg.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lib/core/session.ts';

export const COMPONENT_PORTS = { runtime: 8080, engine: 8081, 'operate-ui': 3000 } as const;

function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=e2e', '-c', 'user.email=e2e@localhost', ...args], {
    encoding: 'utf8',
  });
}

export function demonCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'demon-checkout-'));
  const app = join(REPO_ROOT, 'tests', 'e2e', 'app');
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  cpSync(join(app, 'www'), join(dir, 'www'), { recursive: true });
  writeFileSync(join(dir, '.dockerignore'), '.git\nnotes/\n');
  mkdirSync(join(dir, 'notes'));
  writeFileSync(join(dir, 'notes', 'ignored.txt'), 'not part of any build context\n');
  for (const component of Object.keys(COMPONENT_PORTS)) {
    mkdirSync(join(dir, component));
    // The app's Dockerfile plus one file of the component's own, so a change there rebuilds
    // only that component.
    writeFileSync(
      join(dir, component, 'Dockerfile'),
      `${readFileSync(join(app, 'Dockerfile'), 'utf8')}COPY ${component}/VERSION /VERSION\n`,
    );
    writeFileSync(join(dir, component, 'VERSION'), `${component} 1\n`);
  }
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'stand-in Demon']);
  return dir;
}

export function commitAll(dir: string, message: string): void {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', message]);
}

/** Config components built from the checkout and pushed to `registry`. */
export function builtComponents(registry: string, namespaceTag: string): Record<string, unknown>[] {
  return Object.entries(COMPONENT_PORTS).map(([name, port]) => ({
    name,
    image: `${registry}/${namespaceTag}/${name}:main`,
    port,
    ...(name === 'operate-ui' ? { health: { liveness: '/health', readiness: '/health' } } : {}),
    build: { dockerfile: `${name}/Dockerfile`, args: { PORT: String(port) } },
  }));
}
