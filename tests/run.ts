/**
 * Runs the uvu suites and ends with the line CI reads: "N passed, N failed".
 *   tsx tests/run.ts           unit suites (tests/*.test.ts): no daemon, no cluster
 *   tsx tests/run.ts --e2e     the real-infrastructure lane (tests/e2e/*.test.ts)
 *   tsx tests/run.ts --browser the page as a person sees it, in headless Chromium (tests/browser/*.test.ts)
 *   tsx tests/run.ts --kind    the default path: real kind clusters, offline node image (tests/e2e/kind/*.test.ts)
 *   tsx tests/run.ts FILTER    only suites whose file name contains FILTER
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'uvu/run';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const e2e = args.includes('--e2e');
const browser = args.includes('--browser');
const kind = args.includes('--kind');
const filter = args.find((arg) => !arg.startsWith('--'));
const lanes: [boolean, string][] = [
  [e2e, join(here, 'e2e')],
  [browser, join(here, 'browser')],
  [kind, join(here, 'e2e', 'kind')],
];
const dir = lanes.find(([on]) => on)?.[1] ?? here;
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.test.ts') && (!filter || name.includes(filter)))
  .sort();

// uvu prints "Total / Passed / Skipped"; keep its output and read the numbers from it.
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

await run(
  files.map((name) => ({ name, file: resolve(dir, name) })),
  { bail: false },
);
process.stdout.write = write;

const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const number = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
const total = number('Total');
const passed = number('Passed');
const skipped = number('Skipped');
const failed = Math.max(0, total - passed - skipped);
if (total === 0) {
  console.log('no tests ran');
  process.exitCode = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed > 0) process.exitCode = 1;
