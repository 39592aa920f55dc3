/**
 * The one place that knows every secret value read this run. Everything that leaves the
 * process (status lines, verbose tool output, error messages, reports, artifacts) passes
 * through `mask()`, and always as raw text, before any escaping or cutting: a report is
 * masked first and escaped after, a long message is masked first and cut after.
 *
 * A secret can still reach text in another spelling (an app that logs it as JSON, an error
 * page that XML-escapes it, a tool that prints one line of a PEM key), so each value is
 * registered in every form it can take: raw, base64, JSON- and XML-escaped, and each of its
 * lines on its own.
 */
export const MASK = '***';

/** Values shorter than this would mask innocent text (a password of "a" would eat every "a"). */
const MIN_MASKABLE = 3;

/** GitHub's workflow-command encoding for command data: %, CR and LF (actions/toolkit). */
export function escapeWorkflowData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

const xmlEscape = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
const jsonEscape = (text: string) => JSON.stringify(text).slice(1, -1);

/** Every spelling of `value` that may show up in text we print or write. */
export function formsOf(value: string): string[] {
  const lines = value.split(/\r?\n/).filter((line) => line.trim().length >= MIN_MASKABLE);
  const raw = [value, ...(lines.length > 1 ? lines : [])];
  const forms = raw.flatMap((text) => [
    text,
    Buffer.from(text).toString('base64'),
    jsonEscape(text),
    jsonEscape(jsonEscape(text)),
    xmlEscape(text),
  ]);
  return [...new Set(forms)].filter((form) => form.length >= MIN_MASKABLE);
}

export class Redactor {
  private readonly values = new Set<string>();
  private sorted: string[] = [];

  /**
   * @param announce receives a `::add-mask::` line for each new form, before anything else is
   *   printed (set under GitHub Actions, whose runner then hides the form in its own logs).
   */
  constructor(private readonly announce?: (line: string) => void) {}

  /** Registers a secret (every form of it); announces each new form when announcing. */
  add(value: string): void {
    if (value.length < MIN_MASKABLE && !value.includes('\n')) return;
    for (const form of formsOf(value)) {
      if (this.values.has(form)) continue;
      this.values.add(form);
      // One command per line: a multi-line value announced whole would print its second line.
      this.announce?.(`::add-mask::${escapeWorkflowData(form)}`);
    }
    // Longest first, so a secret that contains another is masked whole.
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.size;
  }

  /** True when `text` is one of the registered forms (a value, a line of one, ...). */
  knows(text: string): boolean {
    return this.values.has(text);
  }

  mask(text: string): string {
    let masked = text;
    for (const value of this.sorted) if (masked.includes(value)) masked = masked.split(value).join(MASK);
    return masked;
  }
}

/** Masks first, then keeps at most `max` characters (with an ellipsis): a cut never splits a secret unseen. */
export function maskedSnippet(redactor: Pick<Redactor, 'mask'> | undefined, text: string, max: number): string {
  const masked = redactor ? redactor.mask(text) : text;
  return masked.length > max ? `${masked.slice(0, max)}...` : masked;
}
