/**
 * The push's unit: one input line as a sync operation (its JSON text, ready to send) or as a line
 * skipped with a reason. Below both toOperation, which makes them, and IdCollisions, which checks
 * their ids, so neither imports the other.
 */

/** Whether a raw record's id was a string or an integer in the source (the number N and the string "N" differ). */
export type IdSource = "number" | "string";

export interface Operation {
  kind: "op";
  line: number;
  /** The operation as JSON text, ready to join into the request's operations array. */
  json: string;
  /** UTF-8 bytes of `json`. */
  bytes: number;
  action: string | null;
  namespace: string | null;
  id: string | null;
  /** Raw records: whether the id was a string or an integer in the source (see IdCollisions). */
  idSource?: IdSource;
  /** The parsed operation (for --dry-run validation). */
  value: unknown;
}

export interface Skipped {
  kind: "skip";
  line: number;
  code: string;
  message: string;
  namespace: string | null;
  id: string | null;
}
