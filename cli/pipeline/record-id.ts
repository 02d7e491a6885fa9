/**
 * A pipeline record's id, from its key fields or its content.
 *
 * - One key field: its value, a string as it is, an integer in decimal ("42").
 * - Several key fields (a composite key): the JSON array of the values, e.g. `["acme",42]`. JSON
 *   quotes and escapes every string, so no two different tuples print the same text (a plain
 *   separator would make ("a-b","c") and ("a","b-c") one id), and "42" stays apart from 42.
 * - No key: "sha256:" and the SHA-256 of the record's JSON text as received, so the same row
 *   sent twice is one record, and different rows never merge.
 * Key values are read through own properties only (never a prototype's), and must be non-empty
 * strings or safe integers (a float or a 20-digit integer could not be read back exactly).
 */
import { sha256Hex } from "../parts";

const MAX_ID_CHARS = 255;

export type IdResult = { id: string } | { error: string };

function ownPath(data: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  let node: unknown = data;
  for (const step of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, step)) return { found: false };
    node = (node as Record<string, unknown>)[step];
  }
  return { found: true, value: node };
}

const describe = (path: readonly string[]) => path.join(".");

/** The record's id from its key paths (each a list of property names), or why it has none. */
export function keyId(data: unknown, keyPaths: readonly (readonly string[])[]): IdResult {
  const values: (string | number)[] = [];
  for (const path of keyPaths) {
    const { found, value } = ownPath(data, path);
    if (!found || value === null) return { error: `key field '${describe(path)}' is missing or null` };
    if (typeof value === "string") {
      if (value === "") return { error: `key field '${describe(path)}' is an empty string` };
      values.push(value);
    } else if (typeof value === "number" && Number.isSafeInteger(value)) values.push(value);
    else {
      return {
        error: `key field '${describe(path)}' must be a string or an integer of at most 15 digits (got ${typeof value === "number" ? value : typeof value})`,
      };
    }
  }
  const id = values.length === 1 ? String(values[0]) : JSON.stringify(values);
  if (id.length > MAX_ID_CHARS) return { error: `the key makes an id of ${id.length} characters; ids hold at most ${MAX_ID_CHARS}` };
  if (!id.isWellFormed()) return { error: "the key holds a lone surrogate (not well-formed Unicode)" };
  if (id === "." || id === "..") return { error: `the id '${id}' cannot be addressed by a URL` };
  return { id };
}

/** The id of a record without a key: the hash of its JSON text. */
export const contentId = (dataText: string): string => `sha256:${sha256Hex(dataText)}`;
