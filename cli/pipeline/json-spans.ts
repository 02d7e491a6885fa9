/**
 * The exact text of an object's members, found without printing anything again.
 *
 * A pipeline message wraps the source's own JSON (an Airbyte record's `data`, a state's
 * `stream_state`, a Singer record). Node 20's JSON.parse cannot show a number's source text, so a
 * parsed and re-printed 20-digit integer (a Postgres LSN in a state, a bigint column) would come
 * out rounded. The destination therefore forwards those values as the very characters it read:
 * these functions give the character range of each member of a JSON object's text.
 */

export interface MemberSpan {
  /** The member's key text, quotes included, as written. */
  keyText: string;
  /** Range of the value's text in the object text. */
  start: number;
  end: number;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The end (exclusive) of the string literal starting at `i` (a quote). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  throw new Error("unterminated string");
}

/** The end (exclusive) of the JSON value starting at `i`; iterative, so any nesting is safe. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      j = stringEnd(text, j) - 1;
      if (depth === 0) return j + 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === 0x2c || isSpace(c))) return j;
  }
  return j;
}

/**
 * Members of the JSON object text `text` (already known to be valid JSON, e.g. parsed once), by
 * decoded key. A repeated key keeps its last occurrence, as JSON.parse does.
 */
export function memberSpans(text: string): Map<string, MemberSpan> {
  const spans = new Map<string, MemberSpan>();
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x7b) throw new Error("not a JSON object");
  i++;
  for (;;) {
    while (i < text.length && (isSpace(text.charCodeAt(i)) || text.charCodeAt(i) === 0x2c)) i++;
    if (i >= text.length || text.charCodeAt(i) === 0x7d) return spans;
    const keyEnd = stringEnd(text, i);
    const keyText = text.slice(i, keyEnd);
    i = keyEnd;
    while (i < text.length && (isSpace(text.charCodeAt(i)) || text.charCodeAt(i) === 0x3a)) i++;
    const end = valueEnd(text, i);
    spans.set(JSON.parse(keyText) as string, { keyText, start: i, end });
    i = end;
  }
}

/** The exact text of member `key` of the object text, or null when absent. */
export function memberText(text: string, key: string): string | null {
  const span = memberSpans(text).get(key);
  return span ? text.slice(span.start, span.end) : null;
}

/** The object text with member `key` set to `valueText` (replacing it where it was, else appended). */
export function withMember(text: string, key: string, valueText: string): string {
  const spans = memberSpans(text);
  const parts: string[] = [];
  for (const [name, span] of spans) {
    parts.push(`${span.keyText}:${name === key ? valueText : text.slice(span.start, span.end)}`);
  }
  if (!spans.has(key)) parts.push(`${JSON.stringify(key)}:${valueText}`);
  return `{${parts.join(",")}}`;
}
