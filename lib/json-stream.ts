/**
 * Splits a stream of concatenated JSON objects (what `kubectl get --watch -o json` prints:
 * one pretty-printed object per event, no separators) into whole objects, whatever the chunk
 * boundaries. It tracks brace depth outside strings, so braces inside values do not count.
 */
export class JsonObjectSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the next object starts in `buffer`, or -1 between objects. */
  private start = -1;
  private scanned = 0;

  /** Feeds a chunk; returns the objects it completed, parsed. */
  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const objects: unknown[] = [];
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') {
        this.inString = true;
      } else if (ch === '{') {
        if (this.depth++ === 0) this.start = i;
      } else if (ch === '}' && this.depth > 0 && --this.depth === 0) {
        objects.push(JSON.parse(this.buffer.slice(this.start, i + 1)));
        this.start = -1;
      }
    }
    // Keep only the object in progress.
    const keepFrom = this.start === -1 ? this.buffer.length : this.start;
    this.buffer = this.buffer.slice(keepFrom);
    this.start = this.start === -1 ? -1 : 0;
    this.scanned = this.buffer.length;
    return objects;
  }
}
