/**
 * D1 allows 100 bound parameters per statement, so rows travel as one JSON array bound to a
 * single parameter and expanded with json_each. A parameter over 2,000,000 bytes fails with
 * SQLITE_TOOBIG, so large arrays are split into pieces under this many UTF-8 bytes.
 */
export const MAX_JSON_PARAM_BYTES = 1_900_000;

/** Bytes of `text` in UTF-8 (a lone surrogate counts as U+FFFD, as TextEncoder writes it), without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Builds JSON array pieces, each under `maxBytes`, from rows given one at a time as their JSON
 * text, so a caller can serialise and let go of one row at a time.
 */
export class JsonChunker {
  readonly pieces: string[] = [];
  /** For each piece, how many rows came before its first one. */
  readonly starts: number[] = [];
  private current: string[] = [];
  private size = 2;
  private rows = 0;

  constructor(private readonly maxBytes = MAX_JSON_PARAM_BYTES) {}

  add(rowText: string): void {
    const bytes = utf8Length(rowText) + 1;
    if (this.current.length > 0 && this.size + bytes > this.maxBytes) this.flush();
    if (this.current.length === 0) this.starts.push(this.rows);
    this.current.push(rowText);
    this.size += bytes;
    this.rows++;
  }

  /** The pieces; no rows, no pieces. */
  finish(): string[] {
    this.flush();
    return this.pieces;
  }

  private flush(): void {
    if (this.current.length === 0) return;
    this.pieces.push(`[${this.current.join(",")}]`);
    this.current = [];
    this.size = 2;
  }
}

/** Serialises rows into JSON arrays, each under `maxBytes`. No rows, no pieces. */
export function jsonChunks(rows: unknown[], maxBytes = MAX_JSON_PARAM_BYTES): string[] {
  const chunker = new JsonChunker(maxBytes);
  for (const row of rows) chunker.add(JSON.stringify(row));
  return chunker.finish();
}
