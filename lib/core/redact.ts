/**
 * The one place that knows every secret value read this run. Everything that leaves the
 * process (status lines, verbose tool output, error messages, dry-run YAML, reports,
 * artifacts) passes through `mask()`.
 */
export const MASK = '***';

/** Values shorter than this would mask innocent text (a password of "a" would eat every "a"). */
const MIN_MASKABLE = 3;

export class Redactor {
  private readonly values = new Set<string>();

  /**
   * Registers a secret. Its base64 form is registered too, because Kubernetes Secrets and
   * docker config `auth` fields carry values base64-encoded.
   * Returns the lines GitHub Actions needs to mask it in its own logs (empty elsewhere).
   */
  add(value: string, onGithubActions = false): string[] {
    if (value.length < MIN_MASKABLE || this.values.has(value)) return [];
    const forms = [value, Buffer.from(value).toString('base64')];
    for (const form of forms) this.values.add(form);
    return onGithubActions ? forms.map((form) => `::add-mask::${form}`) : [];
  }

  get size(): number {
    return this.values.size;
  }

  mask(text: string): string {
    let masked = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) {
      masked = masked.split(value).join(MASK);
    }
    return masked;
  }
}
