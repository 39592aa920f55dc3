#!/usr/bin/env -S node --import tsx
/**
 * Regenerates config/demon.schema.json from the zod schema. `npm test` fails when the
 * committed file drifts from the schema, so run this after changing lib/config/schema.ts.
 * Takes the flags every script takes; with --config it also validates that config against
 * the schema, so a config named here is never silently ignored.
 *   npx tsx scripts/schema.mts [--check] [--config FILE] [--verbose]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMON_FLAGS, parseCommand } from '../lib/core/flags.ts';
import { loadConfig } from '../lib/config/load.ts';
import { configJsonSchema } from '../lib/config/json-schema.ts';
import { runMain } from '../lib/core/main.ts';
import { REPO_ROOT } from '../lib/core/session.ts';

const FLAGS = {
  ...COMMON_FLAGS,
  // No default: the schema does not depend on a config; one named is validated.
  config: { type: 'string', placeholder: 'FILE', description: 'also validate this config against the schema' },
  check: {
    type: 'boolean',
    description: 'only check that the committed schema is current (exit 1 if not)',
    default: false,
  },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/schema.mts [--check] [--config FILE] [--verbose]',
      summary: 'Write config/demon.schema.json from lib/config/schema.ts.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  if (flags.config) {
    loadConfig(flags.config); // a UsageError (exit 2) lists every problem with file:line:col
    main.stderr.write(`${flags.config}: valid\n`);
  }
  const file = resolve(REPO_ROOT, 'config/demon.schema.json');
  const schema = configJsonSchema();
  const current = (() => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  })();
  if (flags.verbose) main.stderr.write(`${file}: ${schema.length} bytes generated from lib/config/schema.ts\n`);
  if (current === schema) {
    main.stderr.write('config/demon.schema.json: unchanged\n');
    return 0;
  }
  if (flags.check) throw new Error('config/demon.schema.json is out of date; run `npx tsx scripts/schema.mts`');
  writeFileSync(file, schema);
  main.stderr.write('config/demon.schema.json: written\n');
  return 0;
});
