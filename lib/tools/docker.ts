/**
 * The docker CLI for the image pipeline: build, log in (password on stdin), push (digest read
 * from the push's own output), inspect. Failures become registry verdicts where they are
 * registry answers, so a push error reads like a --check-pull error.
 */
import { CommandError, run, type Runner } from '../core/exec.ts';
import type { Redactor } from '../core/redact.ts';
import { verdictFor, type Verdict } from './registry-verdict.ts';

export interface BuildSpec {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  tags: string[];
}

export function buildArgv(spec: BuildSpec): string[] {
  return [
    'docker',
    'build',
    '--file',
    spec.dockerfile,
    ...Object.entries(spec.args).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    ...(spec.target ? ['--target', spec.target] : []),
    ...spec.tags.flatMap((tag) => ['--tag', tag]),
    spec.context,
  ];
}

const BUILD_TIMEOUT_MS = 30 * 60_000;

/** Builds; on failure the error names the image and shows the build output's last lines. */
export async function buildImage(runner: Runner, name: string, spec: BuildSpec, redactor?: Redactor): Promise<void> {
  const result = await runner.exec(buildArgv(spec), { timeoutMs: BUILD_TIMEOUT_MS });
  if (result.exitCode === 0) return;
  // The legacy builder streams steps to stdout and the failure to stderr: show both.
  const lines = `${result.stdout}\n${result.stderr}`
    .trim()
    .split('\n')
    .slice(-25)
    .map((line) => `    ${line}`)
    .join('\n');
  const text = `building ${name} failed (${spec.dockerfile}, exit ${result.exitCode}); last lines of the build output:\n${lines}`;
  throw new Error(redactor ? redactor.mask(text) : text);
}

/** `docker push` prints "<tag>: digest: sha256:<hex> size: <n>" once the manifest is up. */
export function parsePushDigest(stdout: string): string | undefined {
  return /: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(stdout)?.[1];
}

/** Reads a registry answer out of docker's error text (it shows no status codes itself). */
export function classifyDockerError(text: string): { status: number; networkError?: string; code?: string } {
  const lower = text.toLowerCase();
  if (/connection refused|no such host|i\/o timeout|dial tcp|server misbehaving|network is unreachable/.test(lower)) {
    return {
      status: 0,
      networkError: (
        /(dial tcp[^\n]*|no such host[^\n]*|connection refused)/i.exec(text)?.[1] ?? 'network error'
      ).trim(),
    };
  }
  if (/toomanyrequests|too many requests|rate limit/.test(lower)) return { status: 429 };
  if (/name unknown|manifest unknown|not found/.test(lower))
    return { status: 404, code: /manifest unknown/.test(lower) ? 'MANIFEST_UNKNOWN' : 'NAME_UNKNOWN' };
  if (/denied|forbidden|403/.test(lower)) return { status: 403, code: 'DENIED' };
  if (/unauthorized|authentication required|no basic auth credentials|incorrect username or password|401/.test(lower))
    return { status: 401, code: 'UNAUTHORIZED' };
  return { status: -1 };
}

export function dockerVerdict(
  error: CommandError,
  context: { image: string; registry: string; operation: 'pull' | 'push'; credentialsFrom?: string },
): Verdict | undefined {
  const answer = classifyDockerError(`${error.stderr}\n${error.stdout}`);
  return answer.status === -1 ? undefined : verdictFor(answer, context);
}

export async function login(
  runner: Runner,
  server: string,
  username: string,
  password: string,
  env: Record<string, string>,
  redactor?: Redactor,
): Promise<void> {
  await run(
    runner,
    ['docker', 'login', server, '--username', username, '--password-stdin'],
    { input: password, env, timeoutMs: 60_000 },
    redactor,
  );
}

export async function push(
  runner: Runner,
  ref: string,
  env: Record<string, string>,
  redactor?: Redactor,
): Promise<string> {
  const result = await run(runner, ['docker', 'push', ref], { env, timeoutMs: BUILD_TIMEOUT_MS }, redactor);
  const digest = parsePushDigest(result.stdout);
  if (!digest)
    throw new Error(
      `pushing ${ref} printed no digest; docker said:\n${result.stdout.trim().split('\n').slice(-5).join('\n')}`,
    );
  return digest;
}

export async function imageId(runner: Runner, ref: string, redactor?: Redactor): Promise<string> {
  return (
    await run(runner, ['docker', 'image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: 30_000 }, redactor)
  ).stdout.trim();
}
