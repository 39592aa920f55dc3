import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandError, commandLine, run, ProcessRunner } from '../lib/core/exec.ts';
import { InterruptedError, UsageError } from '../lib/core/errors.ts';
import { COMMON_FLAGS, helpText, parseFlags } from '../lib/core/flags.ts';
import { exitCodeFor, formatError } from '../lib/core/main.ts';
import { createOutput, memoryOutput } from '../lib/core/output.ts';
import { escapeWorkflowData, MASK, maskedSnippet, Redactor } from '../lib/core/redact.ts';
import { REPO_ROOT } from '../lib/core/session.ts';
import { runSteps } from '../lib/core/steps.ts';
import { ToolClock } from '../lib/core/tool-clock.ts';

const SENTINEL = 'sentinel-Pa55word-7f3a';

const redact = suite('redact');
redact('masks a secret and its base64 form, longest first', () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const b64 = Buffer.from(SENTINEL).toString('base64');
  assert.is(redactor.mask(`a ${SENTINEL} b ${b64} c`), `a ${MASK} b ${MASK} c`);
});
redact('masks the JSON- and XML-escaped forms a report or an app log would write', () => {
  const value = 'Q"uo\'te\\Back&<x>-Sentinel';
  const redactor = new Redactor();
  redactor.add(value);
  const json = JSON.stringify({ error: `rejected ${value}` });
  const xml = `<failure message="rejected ${value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;')}"/>`;
  const twice = JSON.stringify(JSON.stringify({ token: value }));
  for (const text of [json, xml, twice]) assert.not.match(redactor.mask(text), 'Sentinel', text);
});
redact('each line of a multi-line secret is masked on its own (a PEM key printed in part)', () => {
  const redactor = new Redactor();
  redactor.add('Line1-Sentinel-aaa\nLine2-Sentinel-bbb');
  assert.is(redactor.mask('only the second: Line2-Sentinel-bbb'), `only the second: ${MASK}`);
});
redact('under GitHub Actions every form is announced, one escaped line each, as it is registered', () => {
  const lines: string[] = [];
  const redactor = new Redactor((line) => lines.push(line));
  redactor.add('abc%0Adef\nLine2-Sentinel');
  assert.ok(
    lines.every((line) => line.startsWith('::add-mask::') && !line.includes('\n')),
    lines.join(' | '),
  );
  assert.ok(lines.includes('::add-mask::abc%250Adef%0ALine2-Sentinel'), 'the whole value, %-encoded');
  assert.ok(lines.includes('::add-mask::Line2-Sentinel'), 'its second line alone');
  assert.is(escapeWorkflowData('a%b\r\nc'), 'a%25b%0D%0Ac');
  const quiet = new Redactor();
  quiet.add(SENTINEL);
  assert.ok(quiet.knows(SENTINEL));
});
redact('masks first, cuts after: a long secret is never half shown', () => {
  const long = `LongStart-Sentinel-${'Z'.repeat(400)}-LongEnd-Sentinel`;
  const redactor = new Redactor();
  redactor.add(long);
  const snippet = maskedSnippet(redactor, `auth failed for token ${long} (retry)`, 120);
  assert.not.match(snippet, 'Sentinel');
  assert.is(snippet, `auth failed for token ${MASK} (retry)`);
});
redact('ignores values too short to mask safely', () => {
  const redactor = new Redactor();
  redactor.add('ab');
  assert.is(redactor.mask('abc'), 'abc');
});
redact.run();

const exec = suite('exec: the real runner (local processes only)');
const quiet = () => new ProcessRunner({ env: { PATH: process.env.PATH }, redactor: new Redactor() });
exec('passes arguments as an array: no shell expansion of $, quotes or globs', async () => {
  const result = await quiet().exec(['printf', '%s|', 'a b', '$HOME', "it's", '*']);
  assert.is(result.stdout, "a b|$HOME|it's|*|");
});
exec('feeds stdin and keeps stdout and stderr apart', async () => {
  const result = await quiet().exec(['sh', '-c', 'cat; echo warn >&2; exit 3'], { input: 'from stdin' });
  assert.equal([result.exitCode, result.stdout, result.stderr], [3, 'from stdin', 'warn\n']);
});
exec('a tool that prompts gets EOF at once instead of hanging', async () => {
  const started = Date.now();
  const result = await quiet().exec(['sh', '-c', 'read answer || echo eof'], { timeoutMs: 5000 });
  assert.is(result.stdout, 'eof\n');
  assert.ok(Date.now() - started < 2000);
});
exec('a tool that exits without reading its stdin does not crash us (EPIPE)', async () => {
  const runner = quiet();
  for (let i = 0; i < 20; i++) {
    const result = await runner.exec(['true'], { input: 'x'.repeat(1 << 20) });
    assert.is(result.exitCode, 0);
  }
});
exec('kills a command at its timeout and says so', async () => {
  const started = Date.now();
  const result = await quiet().exec(['sleep', '10'], { timeoutMs: 300 });
  assert.ok(Date.now() - started < 5000);
  assert.is(result.timedOut, true);
  const error = new CommandError(result);
  assert.match(error.message, /^`sleep 10` timed out after \d+ ms/);
});
exec('CommandError carries argv, exit code and output, shows a pastable line, and masks secrets', async () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const runner = new ProcessRunner({ env: { PATH: process.env.PATH }, redactor });
  const error = (await run(
    runner,
    ['sh', '-c', `echo "token ${SENTINEL} rejected" >&2; exit 4`, 'arg with space'],
    {},
    redactor,
  ).catch((e: unknown) => e)) as CommandError;
  assert.instance(error, CommandError);
  assert.is(error.exitCode, 4);
  assert.is(error.argv[0], 'sh');
  assert.not.match(error.message, SENTINEL);
  assert.not.match(error.stderr, SENTINEL);
  assert.match(error.message, /exited with code 4:\ntoken \*\*\* rejected/);
  assert.match(error.message, /'arg with space'/);
});
exec('verbose output is redacted too', async () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const seen: string[] = [];
  await new ProcessRunner({ env: { PATH: process.env.PATH }, redactor, onVerbose: (t) => seen.push(t) }).exec([
    'echo',
    SENTINEL,
  ]);
  assert.is(seen.length, 1);
  assert.not.match(seen[0]!, SENTINEL);
});
exec('stream: stdout as it comes, stderr masked, the end reported; stop() kills the tool', async () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const runner = new ProcessRunner({ env: { PATH: process.env.PATH }, redactor });
  const chunks: string[] = [];
  const done = await runner.stream(['sh', '-c', `printf 'a'; printf 'b'; echo "bad ${SENTINEL}" >&2; exit 5`], (c) =>
    chunks.push(c),
  ).exited;
  assert.is(chunks.join(''), 'ab');
  assert.equal(done, { exitCode: 5, signal: null, stderr: 'bad ***\n' });
  const sleeper = runner.stream(['sleep', '30'], () => {});
  sleeper.stop();
  assert.is((await sleeper.exited).exitCode, null);
  const missing = await runner.stream(['no-such-tool-here'], () => {}).exited;
  assert.match(missing.stderr, /cannot run no-such-tool-here: spawn no-such-tool-here ENOENT/);
});
exec.run();

const interrupt = suite('runMain: one interrupt path for every script');
async function interrupted(
  signal: NodeJS.Signals,
): Promise<{ code: number | null; stderr: string; pids: number[]; credentialLeft: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'demon-interrupt-'));
  const credential = join(dir, 'config.json');
  const pidFile = join(dir, 'pids');
  const node = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'tests', 'helpers', 'interruptible.mts'), credential, pidFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  node.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => node.once('exit', (code) => resolve(code)));
  let pids: number[] = [];
  for (let i = 0; i < 200 && pids.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (existsSync(pidFile)) pids = readFileSync(pidFile, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  }
  assert.is(pids.length, 2, `the script never started its tools: ${stderr}`);
  // Signal node alone (not its group): the tools sit in groups of their own.
  node.kill(signal);
  // The tools sleep 60 s: a run that waited for them instead of stopping them fails here.
  const code = await Promise.race([
    exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000)),
  ]);
  if (code === 'hung') {
    node.kill('SIGKILL');
    assert.unreachable(`still running 20 s after ${signal}: the interrupt did not stop its tools`);
  }
  assert.ok(code !== 'hung');
  return { code: code as number | null, stderr, pids, credentialLeft: existsSync(credential) };
}
async function allGoneWithin(pids: number[], ms = 5_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids;
  while (alive.length && Date.now() < deadline) {
    alive = alive.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return alive;
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  interrupt(`${signal}: every tool and what it forked is stopped, the credential removed, exit ${code}`, async () => {
    const run = await interrupted(signal);
    assert.is(run.code, code, run.stderr);
    assert.match(run.stderr, new RegExp(`interrupted by ${signal}`));
    assert.equal(await allGoneWithin(run.pids), [], 'a tool outlived the interrupt');
    assert.is(run.credentialLeft, false, 'the temporary credential stayed on disk');
  });
}
interrupt.run();

const clock = suite('tool clock');
clock('the tool clock counts overlapping runs once, and an open run up to now', () => {
  const clock = new ToolClock();
  const a = clock.start(0);
  const b = clock.start(100);
  a(300);
  a(900); // a second end is ignored
  b(400);
  const c = clock.start(1000);
  assert.is(clock.busyMs(1200), 600);
  c(1500);
  assert.equal([clock.busyMs(2000), clock.calls], [900, 3]);
});
clock('commandLine quotes only what needs quoting', () => {
  assert.is(
    commandLine(['kubectl', '-n', 'demon', 'get', 'pods', '-o', 'go-template={{.x}}']),
    "kubectl -n demon get pods -o 'go-template={{.x}}'",
  );
});
clock.run();

const steps = suite('steps');
steps('prints one ✓ line per step with its outcome and duration', async () => {
  const output = memoryOutput(new Redactor());
  await runSteps(
    [
      { name: 'one', run: async () => 'unchanged' },
      { name: 'two', run: async () => undefined },
    ],
    {},
    output,
  );
  assert.is(output.lines.length, 2);
  assert.match(output.lines[0]!, /^✓ one: unchanged \(\d+ms\)$/);
  assert.match(output.lines[1]!, /^✓ two \(\d+ms\)$/);
});
steps('stops at the first failure with a ✗ line and rethrows the error unchanged', async () => {
  const output = memoryOutput(new Redactor());
  const failure = new UsageError('bad');
  let thirdRan = false;
  const error = await runSteps(
    [
      { name: 'one', run: async () => undefined },
      {
        name: 'two',
        run: async () => {
          throw failure;
        },
      },
      {
        name: 'three',
        run: async () => {
          thirdRan = true;
        },
      },
    ],
    {},
    output,
  ).catch((e: unknown) => e);
  assert.is(error, failure);
  assert.is(thirdRan, false);
  assert.match(output.lines[1]!, /^✗ two \(\d+ms\)$/);
});
steps('status lines pass through the redactor', async () => {
  const redactor = new Redactor();
  redactor.add(SENTINEL);
  const output = memoryOutput(redactor);
  await runSteps([{ name: 'login', run: async () => `as ${SENTINEL}` }], {}, output);
  assert.not.match(output.lines.join('\n'), SENTINEL);
});
steps.run();

const flags = suite('flags and exit codes');
flags('parses common flags with defaults', () => {
  assert.equal(parseFlags([], COMMON_FLAGS), { config: 'config/demon.yaml', verbose: false, help: false });
  assert.equal(parseFlags(['--config', 'x.yaml', '--verbose'], COMMON_FLAGS), {
    config: 'x.yaml',
    verbose: true,
    help: false,
  });
});
flags('an unknown flag is a usage error with a suggestion', () => {
  assert.throws(
    () => parseFlags(['--verbos'], COMMON_FLAGS),
    (e: Error) => e instanceof UsageError && /unknown option --verbos \(did you mean --verbose\?\)/.test(e.message),
  );
});
flags('a flag missing its value is a usage error', () => {
  assert.throws(
    () => parseFlags(['--config'], COMMON_FLAGS),
    (e: Error) => e instanceof UsageError && /--config/.test(e.message),
  );
});
flags('help lists every flag with its default', () => {
  const text = helpText('x [options]', 'Does x.', COMMON_FLAGS);
  assert.match(text, /--config FILE\s+config file \(default: config\/demon.yaml\)/);
  assert.match(text, /--verbose/);
});
flags('usage errors exit 2, everything else 1; problems are listed under the message', () => {
  assert.is(exitCodeFor(new UsageError('x')), 2);
  assert.is(exitCodeFor(new Error('x')), 1);
  assert.equal(
    [
      exitCodeFor(new InterruptedError('SIGINT')),
      exitCodeFor(new InterruptedError('SIGTERM')),
      exitCodeFor(new InterruptedError('SIGHUP')),
    ],
    [130, 143, 129],
  );
  assert.is(
    formatError(new UsageError('config invalid', ['a: bad', 'b: worse'])),
    'error: config invalid\n  - a: bad\n  - b: worse',
  );
});
flags.run();

const output = suite('output: spinner on a terminal, plain lines elsewhere');
output('on a TTY the running step shows a spinner that is cleared before its ✓ line', async () => {
  let written = '';
  const stream = {
    isTTY: true,
    write: (text: string) => {
      written += text;
    },
  };
  const out = createOutput({ stream, redactor: new Redactor(), verbose: false, ci: false });
  assert.is(out.interactive, true);
  await runSteps([{ name: 'slow', run: () => new Promise((resolve) => setTimeout(resolve, 200)) }], {}, out);
  assert.match(written, /⠋ slow/);
  assert.match(written, /\r\x1b\[2K✓ slow \(\d+ms\)\n$/);
});
output('under CI there is no spinner and no escape code, even on a TTY', async () => {
  let written = '';
  const out = createOutput({
    stream: {
      isTTY: true,
      write: (text: string) => {
        written += text;
      },
    },
    redactor: new Redactor(),
    verbose: false,
    ci: true,
  });
  await runSteps([{ name: 'step', run: async () => 'done' }], {}, out);
  assert.match(written, /^✓ step: done \(\d+ms\)\n$/);
});
output('verbose text appears only with --verbose, indented', () => {
  const quietOut = memoryOutput(new Redactor(), false);
  quietOut.verbose('tool output');
  assert.equal(quietOut.lines, []);
  const loud = memoryOutput(new Redactor(), true);
  loud.verbose('tool output');
  assert.equal(loud.lines, ['    tool output']);
});
output.run();
