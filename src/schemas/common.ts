import { z } from "zod";

export const NAMESPACE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const OrganizationId = z
  .string({ error: "must be a string starting with 'org_'" })
  .regex(/^org_[A-Za-z0-9_-]{1,60}$/, "must be 'org_' followed by 1-60 letters, digits, '_' or '-'");

export const VectorStoreId = z
  .string({ error: "must be a string starting with 'vs_'" })
  .regex(/^vs_[A-Za-z0-9_-]{1,61}$/, "must be 'vs_' followed by 1-61 letters, digits, '_' or '-'");

/** ISO 8601 date-time with a time zone (Z or ±hh:mm); calendar-checked (no February 30th). */
export const Timestamp = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time with a time zone, e.g. 2026-01-15T10:00:00Z",
});

export const Namespace = z
  .string({ error: "must be a string" })
  .regex(NAMESPACE_PATTERN, "must be 1-64 characters of letters, digits, '_', '-' or '.'");

export const RecordId = z
  .string({ error: "must be a string" })
  .min(1, "must be 1-255 characters")
  .max(255, "must be 1-255 characters")
  .refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deepest nesting accepted inside a record's data: deeper input is refused, not a stack overflow. */
export const MAX_JSON_DEPTH = 64;

function withinDepth(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth > limit) return false;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return true;
}

/**
 * A JSON object kept exactly as parsed. z.record would rebuild it and silently drop a
 * `__proto__` key; z.custom keeps the caller's object, own keys and all.
 */
export const JsonObject = z
  .custom<Record<string, unknown>>(isPlainObject, { error: "must be a JSON object" })
  .refine((o) => withinDepth(o, MAX_JSON_DEPTH), `must not nest deeper than ${MAX_JSON_DEPTH} levels`)
  .meta({ type: "object", additionalProperties: true });

/** Turns a zod error into `{field: [reasons]}` for VALIDATION_ERROR details. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.length ? issue.path.join(".") : "body";
    (out[field] ??= []).push(issue.message);
  }
  return out;
}
