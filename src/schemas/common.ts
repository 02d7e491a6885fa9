import { z } from "zod";
import { MAX_FRACTION_DIGITS, tryNormalizeTimestamp } from "../base/timestamps";
import { MAX_JSON_DEPTH } from "../base/json/json-text";

export { MAX_JSON_DEPTH };

// "." and ".." are refused: URL normalisation makes /records/{ns}/{id} unreachable for them.
export const NAMESPACE_PATTERN = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;

export const OrganizationId = z
  .string({ error: "must be a string starting with 'org_'" })
  .regex(/^org_[A-Za-z0-9_-]{1,60}$/, "must be 'org_' followed by 1-60 letters, digits, '_' or '-'");

export const VectorStoreId = z
  .string({ error: "must be a string starting with 'vs_'" })
  .regex(/^vs_[A-Za-z0-9_-]{1,61}$/, "must be 'vs_' followed by 1-61 letters, digits, '_' or '-'");

const ISO_DATETIME = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time with a time zone, e.g. 2026-01-15T10:00:00Z",
});

/**
 * What Timestamp accepts, as a JSON Schema pattern (the OpenAPI document's): zod's own pattern of
 * the date-time (calendar-checked) with at most MAX_FRACTION_DIGITS fractional digits, and
 * without the range's first day at a positive offset or its last day at a negative one
 * (tryNormalizeTimestamp refuses those days whole).
 */
export const TIMESTAMP_PATTERN = (() => {
  const { pattern } = z.toJSONSchema(ISO_DATETIME) as { pattern: string };
  const fraction = String.raw`(?:\.\d+)?`;
  if (!pattern.startsWith("^") || !pattern.includes(fraction)) throw new Error("zod's date-time pattern changed: update TIMESTAMP_PATTERN");
  const edges = String.raw`(?!0000-01-01T[^+]*\+(?!00:00)|9999-12-31T[^-]*-(?!00:00))`;
  return `^${edges}${pattern.slice(1).replace(fraction, String.raw`(?:\.\d{1,${MAX_FRACTION_DIGITS}})?`)}`;
})();

/**
 * ISO 8601 date-time with a time zone (Z or ±hh:mm); calendar-checked (no February 30th); at
 * most nine fractional digits; in the years 0000-9999 once converted to UTC.
 */
export const Timestamp = ISO_DATETIME.refine(
  (s) => tryNormalizeTimestamp(s) !== null,
  `must be in the years 0000-9999 UTC, with at most ${MAX_FRACTION_DIGITS} fractional digits`,
).meta({
  pattern: TIMESTAMP_PATTERN,
  description: `ISO 8601 date-time with a time zone (Z or ±hh:mm), at most ${MAX_FRACTION_DIGITS} fractional digits, in the years 0000-9999 UTC (so 0000-01-01 takes no positive offset and 9999-12-31 no negative one).`,
});

export const Namespace = z
  .string({ error: "must be a string" })
  .regex(NAMESPACE_PATTERN, "must be 1-64 characters of letters, digits, '_', '-' or '.'");

export const RecordId = z
  .string({ error: "must be a string" })
  .min(1, "must be 1-255 characters")
  .max(255, "must be 1-255 characters")
  .refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)")
  .refine((s) => s !== "." && s !== "..", "must not be '.' or '..' (no URL can address them)");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

type JsonProblem = { path: (string | number)[]; message: string };

const NOT_EXACT =
  "is a number JavaScript cannot hold exactly (out of range, or more significant digits than a 64-bit float keeps); send it as a string";

/**
 * The first value under `root` that the service cannot keep: nesting deeper than `limit`, or a
 * number that is not finite (JSON overflow like 1e400, or a number the body parser found it
 * could not hold exactly, see parseJsonExactly). Iterative, with one entry per open container
 * (at most `limit`), never one per element: a 2-million-item array used to push 2 million frames
 * and ran the store's object out of heap.
 */
export function findJsonProblem(root: unknown, limit: number): JsonProblem | null {
  // The containers being walked, outermost first: each with its own keys (objects) and the
  // position of the child being visited.
  const open: { value: object; keys: string[] | null; next: number }[] = [];
  const pathOf = () => open.map((level) => (level.keys ? level.keys[level.next - 1]! : level.next - 1));
  const visit = (value: unknown): JsonProblem | null => {
    if (typeof value === "number") return Number.isFinite(value) ? null : { path: pathOf(), message: NOT_EXACT };
    if (value === null || typeof value !== "object") return null;
    if (open.length + 1 > limit) return { path: pathOf(), message: `must not nest deeper than ${limit} levels` };
    open.push({ value, keys: Array.isArray(value) ? null : Object.keys(value), next: 0 });
    return null;
  };
  let problem = visit(root);
  while (problem === null && open.length > 0) {
    const level = open[open.length - 1]!;
    const size = level.keys ? level.keys.length : (level.value as unknown[]).length;
    if (level.next >= size) {
      open.pop();
      continue;
    }
    const key = level.keys ? level.keys[level.next]! : level.next;
    level.next++;
    problem = visit((level.value as Record<string | number, unknown>)[key]);
  }
  return problem;
}

/**
 * A JSON object kept exactly as parsed. z.record would rebuild it and silently drop a
 * `__proto__` key; z.custom keeps the caller's object, own keys and all.
 */
export const JsonObject = z
  .custom<Record<string, unknown>>(isPlainObject, { error: "must be a JSON object" })
  .superRefine((o, ctx) => {
    const problem = findJsonProblem(o, MAX_JSON_DEPTH);
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
  })
  .meta({ type: "object", additionalProperties: true });

/** Unknown fields a 400 names one by one. */
export const MAX_UNKNOWN_FIELDS_SHOWN = 20;

type Issue = z.ZodError["issues"][number];

const KIND: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a JSON object",
  array: "an array",
  null: "null",
};

/**
 * The reason of one issue, said as a person would after the field's name ("sync_mode must be
 * ..."). The project's own messages say it so already ("must ...", "is ..."); zod's defaults
 * ("Invalid input: expected string, received number") are rewritten.
 */
function reasonOf(issue: Issue): string {
  if (!/^(Invalid|Too (small|big))\b/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return `must be ${KIND[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small" ? "at least" : "at most";
      const strict = issue.code === "too_small" ? "more than" : "less than";
      const edge = issue.inclusive === false ? strict : word;
      if (issue.origin === "string") return `must be ${edge} ${bound} characters long`;
      if (issue.origin === "array" || issue.origin === "set") return `must have ${edge} ${bound} items`;
      return `must be ${edge} ${bound}`;
    }
    case "invalid_format":
      return "has the wrong format";
    default:
      return "is not valid";
  }
}

/** Whether `input` holds a value at `path` (own properties only; a path is as long as the schema is deep). */
function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object" || typeof key === "symbol" || !Object.hasOwn(value, key)) return false;
    value = (value as Record<string, unknown>)[key as string];
  }
  return value !== undefined;
}

/**
 * Turns a zod error into `{field: [reasons]}` for VALIDATION_ERROR details. With the `input` that
 * was checked, a field it does not hold at all "is required". `root` names an issue of the whole value.
 */
export function fieldErrors(error: z.ZodError, input?: unknown, root = "body"): Record<string, string[]> {
  // Paths can hold the client's own keys ("__proto__"): collected in a Map, returned with own
  // properties only (a null-prototype object would not survive the Durable Object's RPC).
  const out = new Map<string, string[]>();
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      // One entry per unknown field (a typo such as "namespaces" for "namespace" is named), at most
      // MAX_UNKNOWN_FIELDS_SHOWN of them: the answer's size must not follow the client's keys.
      const shown = issue.keys.slice(0, MAX_UNKNOWN_FIELDS_SHOWN);
      for (const key of shown) out.set([...issue.path, key].join("."), ["is not a field of this request"]);
      const more = issue.keys.length - shown.length;
      if (more > 0) out.set([...issue.path, "…"].join("."), [`and ${more} more fields that are not fields of this request`]);
      continue;
    }
    const field = issue.path.length ? issue.path.join(".") : root;
    const missing = input !== undefined && issue.path.length > 0 && !present(input, issue.path);
    const reason = missing ? "is required" : reasonOf(issue);
    const reasons = out.get(field);
    if (!reasons) out.set(field, [reason]);
    else if (!reasons.includes(reason)) reasons.push(reason);
  }
  return Object.fromEntries(out);
}

/**
 * The fields of `value` holding an array longer than their bound, worded as zod words it:
 * checked before validation, which would walk (and report on) every item of a 300,000-item list.
 */
export function overlongArrays(value: unknown, bounds: Record<string, number>): Record<string, string[]> | null {
  if (!isPlainObject(value)) return null;
  const out = new Map<string, string[]>();
  for (const [field, max] of Object.entries(bounds)) {
    const list = Object.hasOwn(value, field) ? value[field] : undefined;
    if (Array.isArray(list) && list.length > max) out.set(field, [`must have at most ${max} items`]);
  }
  return out.size ? Object.fromEntries(out) : null;
}
