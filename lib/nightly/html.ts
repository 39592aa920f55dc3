/**
 * HTML escaping for the history page. Step names, commits and paths come from a file anyone
 * can edit, so every piece of text goes through here, in element content and attributes alike.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * A file link, percent-encoded per path segment, with "./" in front when it starts with a
 * name, so that its first segment can never read as a scheme such as `javascript:`.
 */
export function relativeHref(path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return /^[./]/.test(encoded) ? encoded : `./${encoded}`;
}
