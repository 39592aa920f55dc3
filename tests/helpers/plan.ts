/** Builds a plan from a config file with fake credentials, as the golden and wiring tests need. */
import { loadConfig } from '../../lib/config/load.ts';
import { buildPlan, type Plan } from '../../lib/render/plan.ts';
import { Redactor } from '../../lib/core/redact.ts';
import { requiredEnv } from '../../lib/render/secrets.ts';
import { TEMPLATES_DIR } from '../../lib/core/session.ts';
import type { Config } from '../../lib/config/schema.ts';

/** A recognisable fake value per variable, so tests can look for it in every output. */
export function fakeEnv(config: Config): Record<string, string> {
  return Object.fromEntries(requiredEnv(config).map(({ name }) => [name, `fake-${name.toLowerCase()}-value`]));
}

export function planFor(file: string): { config: Config; plan: Plan; redactor: Redactor; env: Record<string, string> } {
  const config = loadConfig(file);
  const env = fakeEnv(config);
  const redactor = new Redactor();
  const plan = buildPlan({ config, configFile: file, templatesDir: TEMPLATES_DIR, env, redactor });
  return { config, plan, redactor, env };
}
