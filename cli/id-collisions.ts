/**
 * Raw records' ids that two different source values could share. An id is a string or an
 * integer written as its decimal text (rawId), so the only values that can map to the
 * same record id are the number N and the string "N" (canonical decimal text of a safe integer).
 * Every such id of a push is kept, keyed by its integer value (a float64 holds a safe integer
 * exactly: no hash, no false alarm), with the first line that gave it and which of the two kinds
 * it was; a second kind for the same value is a collision, named with both lines.
 *
 * Memory is bounded: an open-addressing table of 12 bytes a slot (float64 key, int32 line whose
 * sign is the kind), grown by doubling up to MAX_SLOTS (24 MiB, at most MAX_IDS ids at half
 * load). Past that, new ids are no longer kept; an id of the other kind that is not in the table
 * can then no longer be proven distinct, so its line is refused (never merged silently). A push
 * whose integer ids are all of one kind (all numbers, or all strings) is never refused.
 */

import type { IdSource, Operation, Skipped } from "./operation";

const MIN_SLOTS = 1 << 12;
export const MAX_SLOTS = 1 << 21;
export const MAX_IDS = MAX_SLOTS / 2;

export type IdCheck =
  | { ok: true }
  | { ok: false; code: "ID_COLLISION"; otherLine: number; otherSource: IdSource }
  | { ok: false; code: "ID_UNCHECKED" };

/** The integer value of an id that a number and a string could share, or null for any other id. */
export function sharedInteger(id: string): number | null {
  if (!/^-?(0|[1-9][0-9]{0,15})$/.test(id) || id === "-0") return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}

export class IdCollisions {
  private keys = new Float64Array(MIN_SLOTS);
  /** 0: empty; +line: the number; -line: the string. */
  private lines = new Int32Array(MIN_SLOTS);
  private count = 0;
  private readonly dropped = { number: false, string: false };
  private readonly scratch = new Float64Array(1);
  private readonly words = new Uint32Array(this.scratch.buffer);

  private slot(value: number, mask: number): number {
    this.scratch[0] = value;
    let h = Math.imul(this.words[0]! ^ Math.imul(this.words[1]!, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    let i = h & mask;
    while (this.lines[i] !== 0 && this.keys[i] !== value) i = (i + 1) & mask;
    return i;
  }

  private grow() {
    const keys = this.keys;
    const lines = this.lines;
    this.keys = new Float64Array(keys.length * 2);
    this.lines = new Int32Array(lines.length * 2);
    const mask = this.keys.length - 1;
    for (let j = 0; j < keys.length; j++) {
      if (lines[j] === 0) continue;
      const i = this.slot(keys[j]!, mask);
      this.keys[i] = keys[j]!;
      this.lines[i] = lines[j]!;
    }
  }

  /** Line `line` gives record id `id` from a source value of kind `source`. */
  check(id: string, source: IdSource, line: number): IdCheck {
    const value = sharedInteger(id);
    if (value === null) return { ok: true };
    const i = this.slot(value, this.keys.length - 1);
    const seen = this.lines[i]!;
    if (seen !== 0) {
      const seenSource: IdSource = seen > 0 ? "number" : "string";
      return seenSource === source ? { ok: true } : { ok: false, code: "ID_COLLISION", otherLine: Math.abs(seen), otherSource: seenSource };
    }
    if (this.dropped[source === "number" ? "string" : "number"]) return { ok: false, code: "ID_UNCHECKED" };
    if (this.count >= MAX_IDS) {
      this.dropped[source] = true;
      return { ok: true };
    }
    this.keys[i] = value;
    this.lines[i] = source === "number" ? line : -line;
    this.count++;
    if (this.count * 2 > this.keys.length && this.keys.length < MAX_SLOTS) this.grow();
    return { ok: true };
  }
}

const describeSource = (id: string, source: IdSource) => (source === "number" ? `the number ${id}` : `the string ${JSON.stringify(id)}`);

/**
 * The line refused when its raw record's id collides with another line's (or can no longer be
 * checked), or null. Operations (no --namespace) carry string ids only and are never checked.
 */
export function refuseCollidingId(ids: IdCollisions, op: Operation): Skipped | null {
  if (op.idSource === undefined || op.id === null) return null;
  const check = ids.check(op.id, op.idSource, op.line);
  if (check.ok) return null;
  const skip = { kind: "skip" as const, line: op.line, namespace: op.namespace, id: op.id };
  if (check.code === "ID_UNCHECKED") {
    return {
      ...skip,
      code: "ID_UNCHECKED",
      message:
        `more than ${MAX_IDS.toLocaleString("en-US")} integer ids in this push, given both as numbers and as strings: ` +
        `${describeSource(op.id, op.idSource)} cannot be checked against them; push such ids as one kind, or in smaller files`,
    };
  }
  return {
    ...skip,
    code: "ID_COLLISION",
    message:
      `${describeSource(op.id, op.idSource)} and ${describeSource(op.id, check.otherSource)} on line ${check.otherLine} ` +
      `would both be record ${JSON.stringify(op.id)}: not sent (make the ids distinct, or of one kind)`,
  };
}
