/**
 * The source text of one member of a JSON object's text, for what JSON.parse loses: whether an
 * id was written `1`, `1.0`, `1e0` or `-0` (Node 20's JSON.parse gives no literal's source).
 * An iterative scan of one line (no recursion, constant memory); the text is valid JSON (it was
 * parsed before).
 */

const QUOTE = 34;
const BACKSLASH = 92;

/** Index just past the string token that starts at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return text.length;
}

/** Index just past the value that starts at `start` (a string, a container, or a literal). */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === 123 || first === 91) {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i) - 1;
      else if (c === 123 || c === 91) depth++;
      else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
    }
    return text.length;
  }
  let i = start;
  while (i < text.length && !/[\s,}\]]/.test(text[i]!)) i++;
  return i;
}

const skipSpace = (text: string, i: number) => {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
};

/**
 * The text of the value of top-level member `name` of the JSON object `text` (the last one when
 * the name repeats, as JSON.parse keeps the last), or null when it has none.
 */
export function memberText(text: string, name: string): string | null {
  let found: string | null = null;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123) return null;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    i = skipSpace(text, i + 1); // the colon
    const end = valueEnd(text, i);
    if (key === name) found = text.slice(i, end);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 44) break; // not a comma: the closing brace
    i = skipSpace(text, i + 1);
  }
  return found;
}
