/**
 * From a record to the text that is embedded, and from that text to chunks the model takes.
 * Both are bounded: a small record must not turn into unbounded text or vectors (a 100 KB record
 * of one long key over 50,000 array items used to derive 50 MB of text, repeating the path).
 */

/** Longest text derived from (or given with) one record, in UTF-16 code units. */
export const MAX_TEXT_CHARS = 512 * 1024;
/** Most chunks, hence vectors, one record may have. */
export const MAX_CHUNKS_PER_RECORD = 256;

/** Thrown by the bounded walks below when a record's text or chunks pass their limit. */
export class TextTooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TextTooLarge";
  }
}

/**
 * Every scalar leaf under `value` as `path: text` lines, keys sorted so that the order is stable,
 * stopping as soon as the lines pass `budget.chars`. Recursion depth is bounded by validation
 * (MAX_JSON_DEPTH) and by the body parser's nesting limit.
 */
function scalarLeaves(value: unknown, path: string, out: string[], budget: { chars: number }): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) scalarLeaves(value[i], `${path}[${i}]`, out, budget);
  } else if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj).sort()) scalarLeaves(obj[key], path ? `${path}.${key}` : key, out, budget);
  } else {
    const text = String(value).trim();
    if (!text) return;
    budget.chars -= path.length + 2 + text.length + 1;
    if (budget.chars < 0) throw new TextTooLarge(`derived text is over ${MAX_TEXT_CHARS} characters`);
    out.push(`${path}: ${text}`);
  }
}

/** The value at a dot path ("assignee.name"); undefined when any step is missing. */
export function valueAtPath(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const step of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, step)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * The text of a record: `path: value` lines, one per scalar leaf of `data` (or of the store's
 * `text_fields`, in the order configured), then the file's relative path. Throws TextTooLarge
 * past MAX_TEXT_CHARS.
 */
export function deriveText(
  data: Record<string, unknown>,
  file: { file_relative_path?: string } | null,
  textFields: string[] | null,
): string {
  const lines: string[] = [];
  const budget = { chars: MAX_TEXT_CHARS };
  if (textFields) {
    for (const field of textFields) scalarLeaves(valueAtPath(data, field), field, lines, budget);
  } else {
    scalarLeaves(data, "", lines, budget);
  }
  if (file?.file_relative_path) {
    if (budget.chars - file.file_relative_path.length - 7 < 0) throw new TextTooLarge(`derived text is over ${MAX_TEXT_CHARS} characters`);
    lines.push(`file: ${file.file_relative_path}`);
  }
  return lines.join("\n");
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
/** Any character outside ASCII (U+0080 and up): such text takes the Unicode pattern. */
const NON_ASCII = /[\u0080-\u{10ffff}]/u;

/** A text's pieces as parallel lists (start, end, estimated tokens): no object per piece. */
class Pieces {
  starts: number[] = [];
  ends: number[] = [];
  tokens: number[] = [];
  total = 0;
  constructor(
    private readonly maxTokens: number,
    private readonly maxTotal: number,
    private readonly tooMany: () => TextTooLarge,
  ) {}

  /** A piece of `length` characters at `start`: a run longer than a chunk is cut into chunk-sized parts. */
  add(start: number, length: number): void {
    const partChars = this.maxTokens * 4;
    for (let offset = 0; offset < length; offset += partChars) {
      const part = Math.min(length - offset, partChars);
      const tokens = Math.max(1, Math.ceil(part / 4));
      this.starts.push(start + offset);
      this.ends.push(start + offset + part);
      this.tokens.push(tokens);
      this.total += tokens;
    }
    if (this.total > this.maxTotal) throw this.tooMany();
  }
}

const isAsciiWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** What `\s` matches among ASCII characters: tab, line feed, vertical tab, form feed, carriage return, space. */
const isAsciiSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/**
 * Pieces of an ASCII text by character codes, exactly as PIECE finds them (letters and digits in
 * runs, whitespace skipped, anything else a piece of its own), at about twice the regex's speed.
 */
function asciiPieces(text: string, pieces: Pieces): void {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isAsciiWordChar(c)) {
      const start = i;
      while (i < text.length && isAsciiWordChar(text.charCodeAt(i))) i++;
      pieces.add(start, i - start);
    } else {
      if (!isAsciiSpace(c)) pieces.add(i, 1);
      i++;
    }
  }
}

function findPieces(text: string, pieces: Pieces, method: "ascii" | "pattern"): void {
  if (method === "ascii") asciiPieces(text, pieces);
  else for (const match of text.matchAll(PIECE)) pieces.add(match.index!, match[0].length);
}

/** [start, end] of each piece found by one method (for tests: the ASCII scan must agree with the pattern). */
export function piecesOf(text: string, method: "ascii" | "pattern"): [number, number][] {
  const pieces = new Pieces(CHUNK_TOKENS, Number.POSITIVE_INFINITY, () => new TextTooLarge(""));
  findPieces(text, pieces, method);
  return pieces.starts.map((start, i) => [start, pieces.ends[i]!]);
}

/**
 * Throws TextTooLarge when the text needs more than `maxChunks` chunks, as soon as that is
 * certain: a chunk holds at most `maxTokens`, so past maxChunks x maxTokens tokens no more
 * pieces are collected.
 */
export function chunkText(
  text: string,
  maxTokens = CHUNK_TOKENS,
  overlapTokens = OVERLAP_TOKENS,
  maxChunks = MAX_CHUNKS_PER_RECORD,
): string[] {
  if (text.length > MAX_TEXT_CHARS) throw new TextTooLarge(`text is over ${MAX_TEXT_CHARS} characters`);
  if (!text.trim()) return [];
  const tooMany = () => new TextTooLarge(`text makes more than ${maxChunks} chunks of ${maxTokens} tokens`);
  const found = new Pieces(maxTokens, maxChunks * maxTokens, tooMany);
  findPieces(text, found, NON_ASCII.test(text) ? "pattern" : "ascii");
  const { starts, ends, tokens: pieceTokens } = found;
  const count = starts.length;
  if (count === 0) return [];
  const chunks: string[] = [];
  let first = 0;
  for (;;) {
    let last = first;
    let tokens = pieceTokens[first]!;
    while (last + 1 < count && tokens + pieceTokens[last + 1]! <= maxTokens) {
      last += 1;
      tokens += pieceTokens[last]!;
    }
    chunks.push(text.slice(starts[first]!, ends[last]!));
    if (last + 1 >= count) break;
    if (chunks.length >= maxChunks) throw tooMany();
    // Step back over up to overlapTokens of this chunk, always moving forward by one piece at least.
    let next = last + 1;
    let overlap = 0;
    while (next - 1 > first && overlap + pieceTokens[next - 1]! <= overlapTokens) {
      next -= 1;
      overlap += pieceTokens[next]!;
    }
    first = next;
  }
  return chunks;
}
