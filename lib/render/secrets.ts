/**
 * Builds the Secrets in memory from the environment (or files): the app Secret, one
 * dockerconfigjson pull Secret per registry, and the Grafana admin password. Every value is
 * registered with the redactor the moment it is read; values only ever travel to kubectl on
 * stdin. Missing or empty sources are all reported at once (UsageError, exit 2).
 */
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { K8sObject } from './manifests.ts';
import { MANAGED_LABELS, pullSecretName } from './names.ts';
import { MASK, type Redactor } from '../core/redact.ts';
import type { Config } from '../config/schema.ts';
import { GRAFANA_SECRET } from './views.ts';

export interface SecretSources {
  env: Record<string, string | undefined>;
  /** Directory that relative `{file: ...}` paths are resolved against (the config's). */
  baseDir: string;
  readFile(path: string): string;
  /** Permission bits of a file, to warn about secrets every user can read. */
  fileMode?(path: string): number;
}

/** A Secret holds at most 1 MiB; a bigger "secret file" is the wrong file (or /dev/zero). */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** Why a secret file was refused before reading it. */
export class SecretFileError extends Error {}

/** Reads a `{file: ...}` secret: a regular file of at most MAX_SECRET_BYTES. */
export function readSecretFile(
  path: string,
  stat: (path: string) => { isFile(): boolean; size: number },
  read: (path: string) => string,
): string {
  const info = stat(path);
  if (!info.isFile()) throw new SecretFileError('is not a regular file');
  if (info.size > MAX_SECRET_BYTES)
    throw new SecretFileError(`is ${(info.size / 1024 / 1024).toFixed(1)} MiB, more than a Secret holds (1 MiB)`);
  return read(path);
}

/** Docker Hub's auths key is historical; everything else is the bare host. */
export function dockerConfigJson(server: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return JSON.stringify({ auths: { [server]: { username, password, auth } } });
}

function secretObject(
  namespace: string,
  name: string,
  component: string,
  data: Record<string, string>,
  type = 'Opaque',
): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': component, ...MANAGED_LABELS },
    },
    type,
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  };
}

/** Every env var the config needs, with the key that needs it, for preflight and dry-run. */
export function requiredEnv(config: Config): { name: string; neededBy: string }[] {
  const needed: { name: string; neededBy: string }[] = [];
  for (const [key, source] of Object.entries(config.secrets.data)) {
    if (typeof source === 'string') needed.push({ name: source, neededBy: `secrets.data.${key}` });
  }
  config.registries.forEach((r, i) => {
    needed.push({ name: r.usernameEnv, neededBy: `registries[${i}].usernameEnv` });
    needed.push({ name: r.passwordEnv, neededBy: `registries[${i}].passwordEnv` });
  });
  if (config.monitoring.enabled)
    needed.push({ name: config.monitoring.grafana.adminPasswordEnv, neededBy: 'monitoring.grafana.adminPasswordEnv' });
  return needed;
}

export interface BuiltSecrets {
  objects: K8sObject[];
  /** Each value read and where from (an env var's name, a file's path): in memory only. */
  values: { source: string; value: string }[];
  /** Not fatal, but worth fixing (a world-readable secrets file). */
  warnings: string[];
}

export function buildSecrets(config: Config, sources: SecretSources, redactor: Redactor): BuiltSecrets {
  const problems: string[] = [];
  const warnings: string[] = [];
  const values: BuiltSecrets['values'] = [];
  const secret = (value: string | undefined, source?: string) => {
    if (value !== undefined) {
      redactor.add(value);
      if (source) values.push({ source, value });
    }
    return value;
  };
  // User names are not secret (and masking a name like "demon" would garble every line).
  const fromEnv = (name: string, neededBy: string, isSecret = true) => {
    const value = sources.env[name];
    if (value === undefined) problems.push(`${name} is not set (needed by ${neededBy}); export it before running`);
    else if (value === '') problems.push(`${name} is empty (needed by ${neededBy}); set it to the real value`);
    return isSecret ? secret(value || undefined, name) : value || undefined;
  };
  const fromFile = (file: string, neededBy: string) => {
    const path = isAbsolute(file) ? file : resolve(sources.baseDir, file);
    try {
      const value = sources.readFile(path).replace(/\r?\n$/, '');
      if (sources.fileMode && (sources.fileMode(path) & 0o004) !== 0)
        warnings.push(`${path} is readable by every user on this machine; restrict it with \`chmod 600 ${path}\``);
      if (!value) problems.push(`${path} is empty (needed by ${neededBy})`);
      return secret(value || undefined, path);
    } catch (error) {
      const why = error instanceof SecretFileError ? error.message : 'cannot be read';
      problems.push(
        `${path} ${why} (needed by ${neededBy}); ${error instanceof SecretFileError ? 'point to the file that holds the value' : 'create it or fix the path'}`,
      );
      return undefined;
    }
  };

  const { namespace } = config;
  const objects: K8sObject[] = [];
  const appData: Record<string, string> = {};
  for (const [key, source] of Object.entries(config.secrets.data)) {
    const value =
      typeof source === 'string'
        ? fromEnv(source, `secrets.data.${key}`)
        : fromFile(source.file, `secrets.data.${key}`);
    if (value !== undefined) appData[key] = value;
  }
  if (Object.keys(config.secrets.data).length)
    objects.push(secretObject(namespace, config.secrets.name, 'app-secrets', appData));

  config.registries.forEach((registry, i) => {
    const username = fromEnv(registry.usernameEnv, `registries[${i}].usernameEnv`, false);
    const password = fromEnv(registry.passwordEnv, `registries[${i}].passwordEnv`);
    if (username === undefined || password === undefined) return;
    const json = dockerConfigJson(registry.server, username, password);
    secret(Buffer.from(`${username}:${password}`).toString('base64'));
    secret(json);
    objects.push(
      secretObject(
        namespace,
        pullSecretName(registry.name),
        'pull-secret',
        { '.dockerconfigjson': json },
        'kubernetes.io/dockerconfigjson',
      ),
    );
  });

  if (config.monitoring.enabled) {
    const password = fromEnv(config.monitoring.grafana.adminPasswordEnv, 'monitoring.grafana.adminPasswordEnv');
    if (password !== undefined)
      objects.push(secretObject(namespace, GRAFANA_SECRET, 'monitoring', { 'admin-password': password }));
  }

  if (problems.length) throw new UsageError('some secret values are missing (nothing was applied)', problems);
  return { objects, warnings, values };
}

/** The same objects with every Secret value replaced by the mask: for dry-run and artifacts. */
export function redactSecretObjects(objects: K8sObject[]): K8sObject[] {
  return objects.map((object) => {
    if (object.kind !== 'Secret') return object;
    const data = (object.data ?? {}) as Record<string, string>;
    return { ...object, data: Object.fromEntries(Object.keys(data).map((key) => [key, MASK])) };
  });
}
