/** Sorts an object's keys (arrays and scalars are left alone); used as a JSON.stringify replacer. */
function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  if (sorted) return obj;
  const out: Record<string, unknown> = Object.create(null);
  for (const key of keys.sort()) out[key] = obj[key];
  return out;
}

/**
 * JSON with object keys sorted at every depth, so that two records with the same content
 * hash the same whatever order the source system serialised their fields in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? "null";
}
