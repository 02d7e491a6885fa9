/**
 * Guards between a request body's text and the objects the service works on: a nesting bound
 * checked on the text (so no parser, validator, hash or structured clone ever walks deeper),
 * and a parse that marks the numbers a JavaScript number cannot hold exactly.
 */
/** Deepest nesting accepted inside a record's data: deeper input is refused, not a stack overflow. */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting of a whole request body: a record's data may nest MAX_JSON_DEPTH levels
 * inside the envelope, its operations array and the operation. Deeper bodies are refused before
 * parsing; every recursive walk over client JSON is safe at this depth.
 */
export const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 8;

/**
 * Most arrays and objects in one request body (100 per operation at 5000 operations). Parsed, an
 * empty object of 2 bytes of text costs V8 tens of bytes: a 20 MiB body of `{}` took over 400 MB
 * in the store's Durable Object (measured with the inspector on the object's isolate), past a Worker's 128 MB.
 */
export const MAX_BODY_CONTAINERS = 500_000;

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Why a JSON text is refused before parsing: more than `limits.depth` nested arrays or objects,
 * or more than `limits.containers` of them in all (strings skipped); null when neither.
 */
export function jsonShapeProblem(text: string, limits: { depth: number; containers: number }): "depth" | "containers" | null {
  let depth = 0;
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote: one not preceded by an odd run of backslashes.
      for (;;) {
        const end = text.indexOf('"', i + 1);
        if (end < 0) return null; // unterminated: the parser reports it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > limits.depth) return "depth";
      if (++containers > limits.containers) return "containers";
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return null;
}

/**
 * Only a number literal with 16 or more digits (or a three-digit exponent) can lose precision
 * or overflow when parsed into a float64; bodies without one take the plain JSON.parse path.
 */
export const MAYBE_INEXACT = /[0-9][0-9.]{15}|[eE][+-]?[0-9]{3}/;

/** Sign-free significant digits and exponent of a decimal literal: "-12.50e3" -> ["125", 2]. */
function decimal(literal: string): [string, number] {
  const lower = literal.toLowerCase();
  const e = lower.indexOf("e");
  const mantissa = (e < 0 ? lower : lower.slice(0, e)).replace("-", "");
  let exponent = e < 0 ? 0 : Number(lower.slice(e + 1));
  const dot = mantissa.indexOf(".");
  let digits = mantissa;
  if (dot >= 0) {
    exponent -= mantissa.length - dot - 1;
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  }
  digits = digits.replace(/^0+/, "");
  const trimmed = digits.replace(/0+$/, "");
  exponent += digits.length - trimmed.length;
  return [trimmed, trimmed === "" ? 0 : exponent];
}

/** The literal's decimal value is the number's exactly-printed value: nothing was lost. */
export function holdsExactly(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const [a, ea] = decimal(source);
  const [b, eb] = decimal(String(value));
  return a === b && ea === eb;
}

/**
 * JSON.parse, except that a number whose literal a float64 cannot hold exactly (1e400, 1e-400,
 * a 30-digit integer) becomes Infinity, which validation then refuses with its path
 * (findJsonProblem): data is stored exactly as sent or not at all.
 */
export function parseJsonExactly(text: string): unknown {
  if (!MAYBE_INEXACT.test(text)) return JSON.parse(text);
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value !== "number" || context?.source === undefined) return value;
    return holdsExactly(context.source, value) ? value : Infinity;
  } as (key: string, value: unknown) => unknown);
}
