/**
 * Vectorize reads a dot in a metadata filter key as nesting (`{"assignee.name": "Ana"}` looks for
 * `{assignee: {name: "Ana"}}`) and refuses a dot inside a stored metadata key. So a dotted field is
 * stored nested, and shown (and filtered) by its dotted path.
 */

/** At most this many steps in one path; the store's field paths are far shorter (200 characters). */
const MAX_PATH_STEPS = 100;

type Nested = Record<string, unknown>;

const isNested = (v: unknown): v is Nested => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Puts `value` at a dot path in `target`, creating null-prototype objects on the way, so a step
 * named `__proto__` is a key like any other. A step that holds a scalar or an array is replaced:
 * the later path wins.
 */
export function setAtPath(target: Nested, path: string, value: unknown): void {
  const steps = path.split(".").slice(0, MAX_PATH_STEPS);
  let current = target;
  for (const step of steps.slice(0, -1)) {
    const next = Object.hasOwn(current, step) ? current[step] : undefined;
    if (isNested(next)) {
      current = next;
    } else {
      const created: Nested = Object.create(null);
      current[step] = created;
      current = created;
    }
  }
  current[steps.at(-1)!] = value;
}

/**
 * The same metadata in plain objects, for the binding (RPC does not serialise null-prototype
 * objects). A spread and defineProperty define own properties, so a `__proto__` key stays a key;
 * only nested values are copied again (most metadata has none). Depth is bounded by how
 * setAtPath built it (MAX_PATH_STEPS).
 */
export function toPlainObjects(source: Nested, depth = 0): Nested {
  const plain = { ...source };
  for (const [key, value] of Object.entries(plain)) {
    if (isNested(value) && depth < MAX_PATH_STEPS) {
      Object.defineProperty(plain, key, { value: toPlainObjects(value, depth + 1), enumerable: true, writable: true, configurable: true });
    }
  }
  return plain;
}

/** The value at a dot path through nested objects (not arrays), own keys only; undefined if absent. */
export function getAtPath(source: Nested, path: string): unknown {
  let current: unknown = source;
  for (const step of path.split(".").slice(0, MAX_PATH_STEPS)) {
    if (!isNested(current) || !Object.hasOwn(current, step)) return undefined;
    current = current[step];
  }
  return current;
}

/**
 * Nested metadata back as dotted keys (`{assignee: {name: "Ana"}}` -> `{"assignee.name": "Ana"}`),
 * the names a filter uses. Depth is bounded by how the metadata was built (MAX_PATH_STEPS).
 */
export function flattenPaths(source: Nested, prefix = "", into: Nested = Object.create(null), depth = 0): Nested {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isNested(value) && depth < MAX_PATH_STEPS) flattenPaths(value, path, into, depth + 1);
    else into[path] = value;
  }
  return into;
}

/** Whether metadata holds a key with a dot: written flat before dotted fields were stored nested. */
export function hasFlatDottedKey(metadata: Nested | undefined): boolean {
  return metadata !== undefined && Object.keys(metadata).some((key) => key.includes("."));
}
