/**
 * Mustache, made strict: HTML escaping off (Mustache would turn "/" into "&#x2F;") and any
 * key the view does not define is an error instead of silently rendering empty.
 * Views hold YAML-ready scalars: strings are JSON-quoted by the view builders (JSON is YAML),
 * so a value can never break the document's structure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mustache from 'mustache';

/** A value already written as a YAML scalar or flow collection (JSON). */
export type Yaml = string & { readonly __yaml: unique symbol };

/** Writes any JSON-serialisable value as YAML (JSON is a subset of YAML 1.2). */
export function y(value: unknown): Yaml {
  return JSON.stringify(value) as Yaml;
}

export class MissingKeyError extends Error {
  constructor(
    readonly template: string,
    readonly key: string,
  ) {
    super(
      `template ${template} uses {{${key}}}, which its view does not define (a bug in lib/render/views.ts: add the key to the view)`,
    );
    this.name = 'MissingKeyError';
  }
}

type Writer = InstanceType<typeof Mustache.Writer>;
type Context = Parameters<Writer['unescapedValue']>[1];
type Partials = Parameters<Writer['renderSection']>[2];
type Options = Parameters<Writer['renderSection']>[4];

class StrictWriter extends Mustache.Writer {
  constructor(private readonly templateName: string) {
    super();
  }

  private defined(token: string[], context: Context): void {
    const name = token[1]!;
    if (context.lookup(name) === undefined) throw new MissingKeyError(this.templateName, name);
  }

  override renderSection(
    token: string[],
    context: Context,
    partials?: Partials,
    template?: string,
    config?: Options,
  ): string {
    this.defined(token, context);
    return super.renderSection(token, context, partials, template, config);
  }

  override renderInverted(
    token: string[],
    context: Context,
    partials?: Partials,
    template?: string,
    config?: Options,
  ): string {
    this.defined(token, context);
    return super.renderInverted(token, context, partials, template, config);
  }

  override unescapedValue(token: string[], context: Context): string {
    this.defined(token, context);
    return super.unescapedValue(token, context);
  }

  override escapedValue(token: string[], context: Context, config?: Options): string {
    this.defined(token, context);
    return super.escapedValue(token, context, config);
  }
}

const NO_ESCAPE = { escape: (text: string) => text };

export function renderTemplate(
  name: string,
  template: string,
  view: object,
  partials: Record<string, string> = {},
): string {
  const writer = new StrictWriter(name);
  return writer.render(template, view, partials, NO_ESCAPE);
}

export interface TemplateSet {
  get(name: string): string;
  partials: Record<string, string>;
}

/** Templates live in templates/<name>.yaml.mustache; partials are templates/_<name>.mustache. */
export function loadTemplates(dir: string): TemplateSet {
  const cache = new Map<string, string>();
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const partials = Object.fromEntries(
    ['labels', 'pod-security', 'container-security'].map((name) => [name, read(`_${name}.mustache`)]),
  );
  return {
    partials,
    get(name) {
      if (!cache.has(name)) cache.set(name, read(`${name}.yaml.mustache`));
      return cache.get(name)!;
    },
  };
}
