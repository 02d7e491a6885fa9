// Vectorize's metadata filter semantics, in one place: the local vector index answers queries
// with them, and keyword search applies them to the records it finds (the index is not asked).
import { getAtPath } from "./metadata-paths";

type Scalar = string | number | boolean | null;

/** Vectorize compares numbers as numbers and strings as strings: a value of the other type never matches a range. */
function inRange(value: unknown, operand: unknown, holds: (a: Scalar, b: Scalar) => boolean): boolean {
  const type = typeof operand;
  return (type === "number" || type === "string") && typeof value === type && holds(value as Scalar, operand as Scalar);
}

function compare(value: unknown, op: string, operand: unknown): boolean {
  switch (op) {
    case "$eq":
      return value === operand;
    case "$ne":
      return value !== operand;
    case "$lt":
      return inRange(value, operand, (a, b) => a! < b!);
    case "$lte":
      return inRange(value, operand, (a, b) => a! <= b!);
    case "$gt":
      return inRange(value, operand, (a, b) => a! > b!);
    case "$gte":
      return inRange(value, operand, (a, b) => a! >= b!);
    case "$in":
      return Array.isArray(operand) && operand.includes(value);
    case "$nin":
      return Array.isArray(operand) && !operand.includes(value);
    default:
      throw new Error(`unsupported filter operator ${op}`);
  }
}

/**
 * Vectorize's metadata filter: `{field: value}` is $eq; `{field: {$op: value}}`; all fields must match;
 * a dot in a field is nesting (`"pandas.nice"` reads `{pandas: {nice}}`, never a key "pandas.nice").
 * Metadata is read through own properties only: a filter on `constructor` or `__proto__` sees the
 * vector's own key of that name, never Object.prototype's.
 */
export function matchesFilter(metadata: Record<string, unknown>, filter: Record<string, unknown> | undefined): boolean {
  if (!filter) return true;
  for (const [field, condition] of Object.entries(filter)) {
    const value = getAtPath(metadata, field);
    if (condition !== null && typeof condition === "object" && !Array.isArray(condition)) {
      for (const [op, operand] of Object.entries(condition)) if (!compare(value, op, operand)) return false;
    } else if (!compare(value, "$eq", condition)) {
      return false;
    }
  }
  return true;
}
