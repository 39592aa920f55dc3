#!/usr/bin/env -S node --import tsx
/**
 * Regenerates config/demon.schema.json from the zod schema. `npm test` fails when the
 * committed file drifts from the schema, so run this after changing lib/config/schema.ts.
 *   npx tsx scripts/schema.mts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCommand } from '../lib/core/flags.ts';
import { configJsonSchema } from '../lib/config/json-schema.ts';
import { runMain } from '../lib/core/main.ts';
import { REPO_ROOT } from '../lib/core/session.ts';

const FLAGS = {
  check: {
    type: 'boolean',
    description: 'only check that the committed schema is current (exit 1 if not)',
    default: false,
  },
  help: { type: 'boolean', description: 'show this help', default: false },
} as const;

await runMain(async (main) => {
  const flags = parseCommand(
    main.argv,
    FLAGS,
    {
      usage: 'npx tsx scripts/schema.mts [--check]',
      summary: 'Write config/demon.schema.json from lib/config/schema.ts.',
    },
    main.stdout,
  );
  if (!flags) return 0;
  const file = resolve(REPO_ROOT, 'config/demon.schema.json');
  const schema = configJsonSchema();
  const current = (() => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  })();
  if (current === schema) {
    main.stderr.write('config/demon.schema.json: unchanged\n');
    return 0;
  }
  if (flags.check) throw new Error('config/demon.schema.json is out of date; run `npx tsx scripts/schema.mts`');
  writeFileSync(file, schema);
  main.stderr.write('config/demon.schema.json: written\n');
  return 0;
});
