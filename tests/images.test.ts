import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../lib/config/load.ts';
import { contentHash } from '../lib/images/content-hash.ts';
import { buildArgv, classifyDockerError, parsePushDigest } from '../lib/tools/docker.ts';
import { parseDockerignore } from '../lib/images/content-hash.ts';
import { dockerfileSources, readBy } from '../lib/images/dockerfile-sources.ts';
import { UsageError } from '../lib/core/errors.ts';
import { branchTag } from '../lib/tools/git.ts';
import { imageJobs, pathProblems, tagsFor } from '../lib/images/jobs.ts';
import { repositoryOf } from '../lib/tools/image-ref.ts';
import { parseLock, pinnedImages, readLock, writeLock, type Lock } from '../lib/images/lock.ts';
import { verdictFor } from '../lib/tools/registry-verdict.ts';
import { recorded } from './helpers/fake-runner.ts';

const ignore = suite('images: .dockerignore');
ignore('patterns, globs, ** and negation, last match wins', () => {
  const patterns = parseDockerignore('# comment\ntarget\n*.log\n**/node_modules\ndocs/**\n!docs/keep.md\n/build/\n');
  const cases: [string, boolean][] = [
    ['target', true],
    ['target/debug/x', true],
    ['src/target', false],
    ['a.log', true],
    ['dir/a.log', false],
    ['node_modules/x', true],
    ['web/node_modules/y', true],
    ['docs/a.md', true],
    ['docs/keep.md', false],
    ['build/out', true],
    ['src/main.rs', false],
  ];
  for (const [path, expected] of cases) assert.is(patterns.ignores(path), expected, path);
});
ignore('character classes and escapes, as moby matches them (our own matcher got [a-c] wrong)', () => {
  const rules = parseDockerignore('[a-c].txt\n\\*literal\n');
  assert.equal(
    ['b.txt', 'd.txt', '*literal', 'xliteral'].map((path) => rules.ignores(path)),
    [true, false, true, false],
  );
});
ignore.run();

const sources = suite('images: what a Dockerfile reads');
sources('COPY and ADD sources, flags, JSON form; --from and URLs are not context', () => {
  const text =
    'FROM rust AS build\nCOPY --chown=1:1 Cargo.toml Cargo.lock ./\nCOPY runtime \\\n  runtime\nADD ["assets/a b.txt", "/x"]\nADD https://example.invalid/f /f\nFROM scratch\nCOPY --from=build /out /out\n';
  assert.equal(dockerfileSources(text), {
    kind: 'paths',
    patterns: ['Cargo.toml', 'Cargo.lock', 'runtime', 'assets/a b.txt'],
  });
  const used = readBy(dockerfileSources(text));
  assert.ok(used('runtime/src/main.rs'));
  assert.not.ok(used('engine/src/main.rs'));
});
sources('`COPY . .` and unknown variables mean the whole context', () => {
  assert.equal(dockerfileSources('FROM x\nCOPY . .\n'), { kind: 'all' });
  assert.equal(dockerfileSources('FROM x\nARG D\nCOPY $D /d\n'), { kind: 'all' });
});
sources('ARG references expand from defaults and build args (a build arg wins)', () => {
  const text = 'ARG DIR=runtime\nFROM x\nARG DIR\nCOPY ${DIR}/src /src\n';
  assert.equal(dockerfileSources(text), { kind: 'paths', patterns: ['runtime/src'] });
  assert.equal(dockerfileSources(text, { DIR: 'engine' }), { kind: 'paths', patterns: ['engine/src'] });
});
sources('a heredoc is Dockerfile content, not a context path (even when it reads like a COPY)', () => {
  const text = 'FROM x\nCOPY <<EOF /etc/app.conf\nCOPY secrets /nope\nEOF\nCOPY app /app\n';
  assert.equal(dockerfileSources(text), { kind: 'paths', patterns: ['app'] });
});
sources('RUN --mount=type=bind reads from the context; cache mounts and other stages do not', () => {
  const text =
    'FROM x\nRUN --mount=type=bind,source=package.json,target=/p --mount=type=cache,target=/c --mount=type=bind,from=build,target=/b npm ci\n';
  assert.equal(dockerfileSources(text), { kind: 'paths', patterns: ['package.json'] });
  assert.equal(dockerfileSources('FROM x\nRUN --mount=type=bind,target=/src make\n'), { kind: 'all' });
});
sources.run();

function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'demon-hash-'));
  for (const component of ['runtime', 'engine']) {
    mkdirSync(join(dir, component));
    writeFileSync(
      join(dir, component, 'Dockerfile'),
      `FROM scratch\nCOPY shared /shared\nCOPY ${component} /${component}\n`,
    );
    writeFileSync(join(dir, component, 'main.rs'), `fn main() {} // ${component}\n`);
  }
  mkdirSync(join(dir, 'shared'));
  writeFileSync(join(dir, 'shared', 'lib.rs'), 'pub fn shared() {}\n');
  writeFileSync(join(dir, '.dockerignore'), '**/*.tmp\n');
  return dir;
}
const hashOf = (dir: string, component: string, args: Record<string, string> = {}, target?: string) =>
  contentHash({ context: dir, dockerfile: join(dir, component, 'Dockerfile'), args, ...(target ? { target } : {}) });

const hashing = suite('images: content hash');
hashing("stable; a one-byte change to a file an image copies changes only that image's hash", () => {
  const dir = checkout();
  const before = { runtime: hashOf(dir, 'runtime'), engine: hashOf(dir, 'engine') };
  assert.is(hashOf(dir, 'runtime'), before.runtime);
  appendFileSync(join(dir, 'engine', 'main.rs'), 'x');
  assert.is(hashOf(dir, 'runtime'), before.runtime);
  assert.is.not(hashOf(dir, 'engine'), before.engine);
});
hashing('a shared file changes both; ignored files change neither', () => {
  const dir = checkout();
  const runtime = hashOf(dir, 'runtime');
  writeFileSync(join(dir, 'shared', 'scratch.tmp'), 'ignored');
  assert.is(hashOf(dir, 'runtime'), runtime);
  appendFileSync(join(dir, 'shared', 'lib.rs'), '\n');
  assert.is.not(hashOf(dir, 'runtime'), runtime);
});
hashing('build args, target and the Dockerfile itself are part of the hash', () => {
  const dir = checkout();
  const base = hashOf(dir, 'runtime');
  assert.is.not(hashOf(dir, 'runtime', { PROFILE: 'release' }), base);
  assert.is.not(hashOf(dir, 'runtime', {}, 'final'), base);
  appendFileSync(join(dir, 'runtime', 'Dockerfile'), '# comment\n');
  assert.is.not(hashOf(dir, 'runtime'), base);
});
hashing.run();

const docker = suite('images: docker commands and their outputs');
docker('build argv: Dockerfile, args, target, every tag, the context last', () => {
  assert.equal(
    buildArgv({
      context: '/src',
      dockerfile: '/src/runtime/Dockerfile',
      args: { PORT: '8080' },
      target: 'final',
      tags: ['r:sha-1234567', 'r:main'],
    }),
    [
      'docker',
      'build',
      '--file',
      '/src/runtime/Dockerfile',
      '--build-arg',
      'PORT=8080',
      '--target',
      'final',
      '--tag',
      'r:sha-1234567',
      '--tag',
      'r:main',
      '/src',
    ],
  );
});
docker('the digest comes from the push output itself (recorded docker 20.10 push)', () => {
  assert.is(
    parsePushDigest(recorded('docker-push.stdout')),
    'sha256:4009e8ab6aa1160754be5712fb03e187bc8bd69664ee4c3b9473ed9f8f291b50',
  );
  assert.is(parsePushDigest('The push refers to repository [x]\n'), undefined);
});
docker("docker's error texts become registry verdicts", () => {
  const push = { image: 'r:t', registry: '127.0.0.1:5001', operation: 'push' as const };
  assert.is(verdictFor(classifyDockerError(recorded('docker-push-unauthorized.stderr')), push).kind, 'unauthorized');
  assert.is(
    verdictFor(classifyDockerError(recorded('docker-login-401.stderr')), { ...push, credentialsFrom: 'U / P' }).kind,
    'unauthorized',
  );
  const refused = verdictFor(classifyDockerError(recorded('docker-push-refused.stderr')), push);
  assert.is(refused.kind, 'unreachable');
  assert.match(refused.sentence, /connection refused/);
  assert.is(classifyDockerError('denied: requested access to the resource is denied').status, 403);
  assert.is(classifyDockerError('toomanyrequests: You have reached your pull rate limit').status, 429);
});
docker.run();

const jobs = suite('images: jobs, tags and the lock');
const config = parseConfig({
  components: [
    {
      name: 'runtime',
      image: 'ghcr.io/afewell-hh/demon-runtime:main',
      port: 8080,
      build: { dockerfile: 'runtime/Dockerfile' },
    },
    { name: 'operate-ui', image: 'ghcr.io/afewell-hh/demon-operate-ui:main', port: 3000 },
  ],
  build: { source: '../Demon' },
});
jobs("only components with a build section, pushed to their image's repository", () => {
  const list = imageJobs(config, '/home/me/demon-bootstrap/config/demon.yaml');
  assert.equal(
    list.map((j) => [j.component, j.repository, j.context, j.dockerfile]),
    [
      [
        'runtime',
        'ghcr.io/afewell-hh/demon-runtime',
        '/home/me/demon-bootstrap/Demon',
        '/home/me/demon-bootstrap/Demon/runtime/Dockerfile',
      ],
    ],
  );
  assert.is(repositoryOf(`127.0.0.1:5001/x/y@sha256:${'a'.repeat(64)}`), '127.0.0.1:5001/x/y');
});
jobs('a missing checkout names the setting to change', () => {
  const problems = pathProblems(
    config,
    '/nonexistent/config/demon.yaml',
    imageJobs(config, '/nonexistent/config/demon.yaml'),
  );
  assert.match(
    problems[0]!,
    /^build.source: the Demon checkout \/nonexistent\/Demon does not exist; clone it there or set build.source/,
  );
});
jobs('tags: sha-<7 chars> exactly as pushed, the branch, and latest when asked', () => {
  assert.equal(tagsFor({ commit: 'abcdef0123456789', short: 'abcdef0', branch: 'main' }, false), [
    'sha-abcdef0',
    'main',
  ]);
  assert.equal(tagsFor({ commit: 'abcdef0123456789', short: 'abcdef0' }, true), ['sha-abcdef0', 'latest']);
  assert.is(branchTag('feature/new-ui'), 'feature-new-ui');
});
const DIGEST = `sha256:${'c'.repeat(64)}`;
const lock: Lock = {
  version: 1,
  images: {
    runtime: {
      repository: 'ghcr.io/afewell-hh/demon-runtime',
      tags: ['sha-abcdef0', 'main'],
      digest: DIGEST,
      pinned: `ghcr.io/afewell-hh/demon-runtime@${DIGEST}`,
      sourceCommit: 'abcdef0123',
      builtAt: '2026-11-26T00:00:00Z',
      contentHash: 'sha256:x',
    },
  },
};
jobs('the lock round-trips through an atomic write', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'demon-lock-')), 'images.lock.json');
  assert.is(readLock(file), undefined);
  writeLock(file, lock);
  assert.equal(readLock(file), lock);
});
jobs('a malformed digest or stray key is refused with the fix', () => {
  const bad = JSON.stringify({ ...lock, images: { runtime: { ...lock.images.runtime, digest: 'sha256:short' } } });
  assert.throws(
    () => parseLock(bad, 'images.lock.json'),
    (e: Error) =>
      e instanceof UsageError &&
      /rebuild it with scripts\/build-images.mts or pass --no-lock/.test(e.message) &&
      (e as UsageError).problems.some((p) => /images.runtime.digest: must be a sha256 digest/.test(p)),
  );
  assert.throws(
    () => parseLock('{not json', 'images.lock.json'),
    (e: Error) => e instanceof UsageError,
  );
});
jobs('pinning: built components become repo@digest; a lock for another config is refused', () => {
  assert.equal(pinnedImages(config, lock, 'images.lock.json'), {
    runtime: `ghcr.io/afewell-hh/demon-runtime@${DIGEST}`,
  });
  const stray = { ...lock, images: { ...lock.images, worker: lock.images.runtime! } };
  assert.throws(
    () => pinnedImages(config, stray, 'images.lock.json'),
    (e: Error) => (e as UsageError).problems.some((p) => /pins "worker", which is not a component/.test(p)),
  );
  const moved = { ...lock, images: { runtime: { ...lock.images.runtime!, repository: 'ghcr.io/other/runtime' } } };
  assert.throws(
    () => pinnedImages(config, moved, 'images.lock.json'),
    (e: Error) =>
      (e as UsageError).problems.some((p) =>
        /pins runtime from ghcr.io\/other\/runtime, but the config's image is/.test(p),
      ),
  );
});
jobs.run();
