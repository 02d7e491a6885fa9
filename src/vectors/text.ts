/**
 * From a record to the text that is embedded, and from that text to chunks the model takes.
 */

/** Every scalar leaf under `value` as [path, text], keys sorted so that the order is stable. */
function scalarLeaves(value: unknown, path: string, out: [string, string][]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => scalarLeaves(item, `${path}[${i}]`, out));
  } else if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj).sort()) scalarLeaves(obj[key], path ? `${path}.${key}` : key, out);
  } else {
    const text = String(value).trim();
    if (text) out.push([path, text]);
  }
}

/** The value at a dot path ("assignee.name"); undefined when any step is missing. */
export function valueAtPath(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const step of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.prototype.hasOwnProperty.call(current, step)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * The text of a record: `path: value` lines, one per scalar leaf of `data` (or of the store's
 * `text_fields`, in the order configured), then the file's relative path.
 */
export function deriveText(data: Record<string, unknown>, file: { file_relative_path?: string } | null,
  textFields: string[] | null): string {
  const leaves: [string, string][] = [];
  if (textFields) {
    for (const field of textFields) scalarLeaves(valueAtPath(data, field), field, leaves);
  } else {
    scalarLeaves(data, "", leaves);
  }
  if (file?.file_relative_path) leaves.push(["file", file.file_relative_path]);
  return leaves.map(([path, text]) => `${path}: ${text}`).join("\n");
}

/**
 * bge models read at most 512 tokens and silently drop the rest. No tokenizer runs here, so the
 * count is estimated on the safe side: a CJK character or a punctuation mark is one token, a
 * word one token per 4 characters (WordPiece splits long and rare words). Chunks hold at most
 * CHUNK_TOKENS estimated tokens and repeat the last OVERLAP_TOKENS of the previous chunk.
 */
export const CHUNK_TOKENS = 400;
export const OVERLAP_TOKENS = 50;

const PIECE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu;

export function chunkText(text: string, maxTokens = CHUNK_TOKENS, overlapTokens = OVERLAP_TOKENS): string[] {
  if (!text.trim()) return [];
  const pieces: { start: number; end: number; tokens: number }[] = [];
  for (const match of text.matchAll(PIECE)) {
    const length = match[0].length;
    // A single piece longer than a chunk (a huge run of letters) is cut into chunk-sized parts.
    for (let offset = 0; offset < length; offset += maxTokens * 4) {
      const part = Math.min(length - offset, maxTokens * 4);
      pieces.push({ start: match.index! + offset, end: match.index! + offset + part, tokens: Math.max(1, Math.ceil(part / 4)) });
    }
  }
  if (pieces.length === 0) return [];
  const chunks: string[] = [];
  let first = 0;
  for (;;) {
    let last = first;
    let tokens = pieces[first]!.tokens;
    while (last + 1 < pieces.length && tokens + pieces[last + 1]!.tokens <= maxTokens) {
      last += 1;
      tokens += pieces[last]!.tokens;
    }
    chunks.push(text.slice(pieces[first]!.start, pieces[last]!.end));
    if (last + 1 >= pieces.length) break;
    // Step back over up to overlapTokens of this chunk, always moving forward by one piece at least.
    let next = last + 1;
    let overlap = 0;
    while (next - 1 > first && overlap + pieces[next - 1]!.tokens <= overlapTokens) {
      next -= 1;
      overlap += pieces[next]!.tokens;
    }
    first = next;
  }
  return chunks;
}
