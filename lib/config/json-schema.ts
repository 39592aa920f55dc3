/** The JSON Schema of config/demon.yaml, generated from the zod schema (the single source). */
import { z } from 'zod';
import { configSchema } from './schema.ts';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, title: 'demon-bootstrap config', $id: 'demon.schema.json' }, null, 2)}\n`;
}
