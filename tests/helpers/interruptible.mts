/**
 * A script shaped like ours, for the interrupt tests: it writes a "credential" file and
 * defers its removal, starts a watch-like stream and a tool that forks a child of its own,
 * then waits. tests/core.test.ts interrupts it and checks that nothing survives.
 *   node --import tsx interruptible.mts CREDENTIAL_FILE PID_FILE
 */
import { rmSync, writeFileSync } from 'node:fs';
import { runMain } from '../../lib/core/main.ts';
import { createSession } from '../../lib/core/session.ts';

await runMain(async (main) => {
  const [credential, pidFile] = main.argv;
  const session = createSession(main, false);
  writeFileSync(credential!, '{"auths":{}}');
  main.defer(() => rmSync(credential!, { force: true }));
  const stream = session.runner.stream!(['sleep', '60'], () => {});
  // The tool forks `sleep` and waits for it, as docker build waits for its steps.
  const tool = session.runner.exec(['sh', '-c', `sleep 60 & echo "$! ${stream.pid}" > ${pidFile}; wait`], {
    timeoutMs: 60_000,
  });
  await tool;
  return 0;
});
