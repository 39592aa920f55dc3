import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeRegistry, parseImageRef, registryBaseUrl } from '../lib/tools/image-ref.ts';
import { headManifest, parseChallenge } from '../lib/tools/registry.ts';
import { verdictFor } from '../lib/tools/registry-verdict.ts';

const refs = suite('image references');
refs('Docker Hub short names, registries with ports, digests', () => {
  assert.equal(parseImageRef('nats:2.10-alpine'), {
    registry: 'docker.io',
    repository: 'library/nats',
    tag: '2.10-alpine',
  });
  assert.equal(parseImageRef('grafana/grafana'), {
    registry: 'docker.io',
    repository: 'grafana/grafana',
    tag: 'latest',
  });
  assert.equal(parseImageRef('ghcr.io/afewell-hh/demon-runtime:main'), {
    registry: 'ghcr.io',
    repository: 'afewell-hh/demon-runtime',
    tag: 'main',
  });
  assert.equal(parseImageRef('127.0.0.1:5001/demon-e2e/runtime:t'), {
    registry: '127.0.0.1:5001',
    repository: 'demon-e2e/runtime',
    tag: 't',
  });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(parseImageRef(`ghcr.io/o/x@${digest}`), { registry: 'ghcr.io', repository: 'o/x', digest });
  assert.equal(parseImageRef(`localhost:5000/x:1@${digest}`), {
    registry: 'localhost:5000',
    repository: 'x',
    tag: '1',
    digest,
  });
});
refs('registry servers as written in docker auths map to the image registry', () => {
  assert.is(normalizeRegistry('https://index.docker.io/v1/'), 'docker.io');
  assert.is(normalizeRegistry('ghcr.io'), 'ghcr.io');
  assert.is(normalizeRegistry('127.0.0.1:5001'), '127.0.0.1:5001');
  assert.is(registryBaseUrl('docker.io'), 'https://registry-1.docker.io');
  assert.is(registryBaseUrl('127.0.0.1:5001'), 'http://127.0.0.1:5001');
  assert.is(registryBaseUrl('ghcr.io'), 'https://ghcr.io');
});
refs('WWW-Authenticate challenges', () => {
  assert.equal(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/x:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/x:pull' },
  });
  assert.equal(parseChallenge('Basic realm="demon-e2e"'), { scheme: 'basic', params: { realm: 'demon-e2e' } });
});
refs.run();

/** A local registry speaking the token protocol (like GHCR and Docker Hub), on 127.0.0.1. */
function tokenRegistry(options: {
  manifests: Record<string, string>;
  user: string;
  password: string;
  status?: number;
}): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { port } = server.address() as AddressInfo;
    const url = new URL(req.url!, `http://127.0.0.1:${port}`);
    if (url.pathname === '/token') {
      const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }));
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: `tok-${url.searchParams.get('scope')}` }));
      return;
    }
    if (options.status) {
      res
        .writeHead(options.status, { 'content-type': 'application/json' })
        .end(req.method === 'GET' ? JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS' }] }) : undefined);
      return;
    }
    const match = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (req.headers.authorization !== `Bearer tok-repository:${match?.[1]}:pull`) {
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test",scope="repository:${match?.[1]}:pull"`,
        })
        .end();
      return;
    }
    const digest = options.manifests[`${match![1]}:${match![2]}`];
    if (!digest) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(req.method === 'GET' ? JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }) : undefined);
      return;
    }
    res.writeHead(200, { 'docker-content-digest': digest }).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const DIGEST = `sha256:${'b'.repeat(64)}`;
const at = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;
const good = { username: 'bot', password: 'pa55-word-xyz' };

const client = suite('registry client: token handshake against a local server');
client('finds a manifest through the Bearer token handshake and returns its digest', async () => {
  const server = await tokenRegistry({ manifests: { 'org/app:main': DIGEST }, user: 'bot', password: 'pa55-word-xyz' });
  try {
    const answer = await headManifest(parseImageRef(`${at(server)}/org/app:main`), good);
    assert.equal(answer, { status: 200, digest: DIGEST });
  } finally {
    server.close();
  }
});
client('wrong credentials: 401 from the token service', async () => {
  const server = await tokenRegistry({ manifests: {}, user: 'bot', password: 'pa55-word-xyz' });
  try {
    const answer = await headManifest(parseImageRef(`${at(server)}/org/app:main`), {
      username: 'bot',
      password: 'nope',
    });
    assert.equal(answer, { status: 401, code: 'UNAUTHORIZED' });
  } finally {
    server.close();
  }
});
client('a tag that was never pushed: 404 MANIFEST_UNKNOWN', async () => {
  const server = await tokenRegistry({ manifests: {}, user: 'bot', password: 'pa55-word-xyz' });
  try {
    assert.equal(await headManifest(parseImageRef(`${at(server)}/org/app:gone`), good), {
      status: 404,
      code: 'MANIFEST_UNKNOWN',
    });
  } finally {
    server.close();
  }
});
client('rate limited: 429 is passed on', async () => {
  const server = await tokenRegistry({ manifests: {}, user: 'bot', password: 'x', status: 429 });
  try {
    assert.is((await headManifest(parseImageRef(`${at(server)}/org/app:main`), undefined)).status, 429);
  } finally {
    server.close();
  }
});
client('a registry that never answers is abandoned at the timeout', async () => {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = Date.now();
  try {
    const answer = await headManifest(parseImageRef(`${at(server)}/org/app:main`), undefined, { timeoutMs: 300 });
    assert.match(answer.networkError!, /no answer from 127.0.0.1:\d+ within 0.3s/);
    assert.ok(Date.now() - started < 3000);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
client('nothing listening: connection refused', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = at(server);
  await new Promise((resolve) => server.close(resolve));
  const answer = await headManifest(parseImageRef(`${address}/org/app:main`), undefined);
  assert.match(answer.networkError!, /cannot connect to 127.0.0.1:\d+ \(ECONNREFUSED\)/);
});
client.run();

const verdicts = suite('registry verdicts: one sentence with the fix');
const pull = { image: 'ghcr.io/o/x:main', registry: 'ghcr.io', operation: 'pull' as const };
verdicts('401 with credentials names the variables to check', () => {
  const v = verdictFor({ status: 401 }, { ...pull, credentialsFrom: 'GHCR_USER / GHCR_TOKEN' });
  assert.is(v.kind, 'unauthorized');
  assert.match(v.sentence, /rejected the credentials from GHCR_USER \/ GHCR_TOKEN .*personal access token/);
});
verdicts('401 without credentials says to add a registries entry', () => {
  assert.match(
    verdictFor({ status: 401 }, { ...pull, registry: '127.0.0.1:5001' }).sentence,
    /requires credentials .*add a registries entry/,
  );
});
verdicts('403 on GHCR lists its usual causes; anonymous 403 may mean never pushed', () => {
  assert.match(
    verdictFor({ status: 403 }, { ...pull, credentialsFrom: 'U / P' }).sentence,
    /read:packages.*not linked to the repository/,
  );
  assert.match(verdictFor({ status: 403 }, pull).sentence, /never pushed, or it is private/);
  assert.match(
    verdictFor({ status: 403 }, { ...pull, operation: 'push', credentialsFrom: 'U / P' }).sentence,
    /packages: write/,
  );
});
verdicts('404 means never pushed or a wrong tag; 429 is a rate limit', () => {
  assert.match(
    verdictFor({ status: 404, code: 'MANIFEST_UNKNOWN' }, pull).sentence,
    /404 not found \(MANIFEST_UNKNOWN\): .*never pushed or the tag is wrong/,
  );
  assert.match(
    verdictFor({ status: 429 }, { ...pull, registry: 'docker.io' }).sentence,
    /429 Too Many Requests.*Docker Hub limits anonymous pulls.*add a registries entry/,
  );
});
verdicts.run();
