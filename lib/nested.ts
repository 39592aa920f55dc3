/**
 * Composes step lists: a step that runs a whole sub-list (the nightly's "build images" runs
 * build-images' own steps), printing the sub-steps' lines indented under it.
 */
import type { Output } from './output.ts';
import { runSteps, type Step } from './steps.ts';

export function indented(output: Output): Output {
  return {
    interactive: false,
    verboseOn: output.verboseOn,
    line: (text) => output.line(`    ${text}`),
    verbose: (text) => output.verbose(text),
    startSpinner: () => {},
    stopSpinner: () => {},
  };
}

/** A step that runs `steps` against `context()`; its outcome is the last sub-step's. */
export function nested<C, S>(name: string, output: Output, steps: (parent: C) => Step<S>[], context: (parent: C) => S): Step<C> {
  return {
    name,
    async run(parent) {
      const records = await runSteps(steps(parent), context(parent), indented(output));
      return records.at(-1)?.outcome;
    },
  };
}
