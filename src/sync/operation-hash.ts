import { sortedCopy } from "../base/json/canonical-json";

/**
 * The text an operation's part of an Idempotency-Key's body hash is taken over. Two operations
 * give the same text only when they are the same JSON value (key order and spacing aside), so
 * that a corrected retry is never answered with the result of the body it corrects.
 *
 * Canonical JSON alone is not enough: a number literal a float64 cannot hold (1e400) is parsed to
 * Infinity (parseJsonExactly) and refused, and JSON.stringify writes Infinity as null, the same
 * text as the corrected operation that sends null in its place. An operation holding such a
 * number is written in a second form instead: prefixed with a NUL (which JSON.stringify never
 * writes unescaped, so no canonical text starts with it), every string value tagged "s" and every
 * non-finite number written "n" and its value, so no string can pass for one.
 */
export function operationHashInput(raw: unknown): string {
  const sorted = sortedCopy(raw);
  const canonical = JSON.stringify(sorted) ?? "null";
  // A non-finite number can only have been written as null.
  if (!canonical.includes("null") || !holdsNonFinite(sorted)) return canonical;
  return `\u0000${JSON.stringify(sorted, (_key, value: unknown) =>
    typeof value === "string" ? `s${value}` : typeof value === "number" && !Number.isFinite(value) ? `n${value}` : value,
  )}`;
}

function holdsNonFinite(value: unknown): boolean {
  let found = false;
  JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) found = true;
    return found ? undefined : v;
  });
  return found;
}
