/**
 * Splits a stream of concatenated JSON objects (what `kubectl get --watch -o json` prints:
 * one object per event, no separators) into whole objects, whatever the chunk boundaries. It
 * tracks brace depth outside strings, so braces inside values do not count. Anything but
 * whitespace between objects is an error: a caller must not go on trusting a stream it cannot
 * read (a stray quote would otherwise swallow every later event without a word).
 */
export class JsonObjectSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  /** Feeds a chunk; returns the objects it completed, parsed. Throws on anything else. */
  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const objects: unknown[] = [];
    let start = 0;
    try {
      for (let i = this.scanned; i < this.buffer.length; i++) {
        const ch = this.buffer[i]!;
        if (this.depth === 0) {
          if (ch === '{') {
            this.depth = 1;
            start = i;
          } else if (!/\s/.test(ch)) {
            throw new Error(`unexpected ${JSON.stringify(this.buffer.slice(i, i + 40))} between objects`);
          }
        } else if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (ch === '\\') this.escaped = true;
          else if (ch === '"') this.inString = false;
        } else if (ch === '"') {
          this.inString = true;
        } else if (ch === '{') {
          this.depth++;
        } else if (ch === '}' && --this.depth === 0) {
          objects.push(JSON.parse(this.buffer.slice(start, i + 1)));
          start = i + 1;
        }
      }
    } catch (error) {
      this.reset();
      throw error;
    }
    // Keep only the object in progress (or nothing, between objects).
    this.buffer = this.depth > 0 ? this.buffer.slice(start) : '';
    this.scanned = this.buffer.length;
    return objects;
  }

  private reset(): void {
    this.buffer = '';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scanned = 0;
  }
}
