/**
 * D1 allows 100 bound parameters per statement, so rows travel as one JSON array bound to a
 * single parameter and expanded with json_each. A parameter over 2,000,000 bytes fails with
 * SQLITE_TOOBIG, so large arrays are split into pieces under this many UTF-8 bytes.
 */
export const MAX_JSON_PARAM_BYTES = 1_900_000;

const utf8 = new TextEncoder();

/** Serialises rows into JSON arrays, each under `maxBytes`. No rows, no pieces. */
export function jsonChunks(rows: unknown[], maxBytes = MAX_JSON_PARAM_BYTES): string[] {
  const pieces: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    const bytes = utf8.encode(text).byteLength + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      pieces.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += bytes;
  }
  if (current.length > 0) pieces.push(`[${current.join(",")}]`);
  return pieces;
}
