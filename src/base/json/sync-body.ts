/**
 * A sync body without its object tree. The Worker never builds the operations: it scans the
 * body's bytes once, cuts out where each operation starts and ends, parses only the small
 * envelope around them, and hands the store's Durable Object the bytes and the cuts. The object
 * then parses one operation at a time and lets each go once checked, so neither isolate ever
 * holds the whole request as objects (a 20 MiB body parses to 40-60 MB of them) beside its text.
 *
 * The scan only decides where values end; each operation's JSON is still checked by JSON.parse
 * where it is read, and the bytes between operations by the scan itself. When the scan finds
 * anything it does not expect, it does not guess: the caller parses the body the ordinary way,
 * which gives the usual errors (or, should the scan be wrong about a valid body, the usual result).
 */
import { MAX_BODY_CONTAINERS, MAX_BODY_DEPTH } from "./json-text";

/** Most operations one sync request may carry (BATCH_SIZE_EXCEEDED past it). */
export const MAX_OPERATIONS = 5000;

/** The operations of a sync body, as bytes and the [start, end) byte offsets of each operation. */
export interface OperationBytes {
  bytes: Uint8Array;
  /** start0, end0, start1, end1, ...: byte offsets into `bytes`. */
  spans: Uint32Array;
}

export type SplitBody =
  | { kind: "split"; envelope: string; operations: OperationBytes }
  /** More operations than `maxOperations`: counted to the end, none kept past the limit. */
  | { kind: "too_many"; count: number }
  /** The envelope (the body without its operations) is over MAX_ENVELOPE_BYTES: never decoded or parsed. */
  | { kind: "envelope_too_large"; bytes: number }
  /** The scan declined: parse the whole body (an invalid body, or a shape this scan does not cut). */
  | { kind: "whole" }
  | { kind: "too_deep" }
  | { kind: "too_complex" };

/**
 * Largest envelope: its fields (ids, mode, timestamp, final, at most 1000 namespaces) take tens of
 * KB even escaped; past this, a field the service does not read would be parsed in the Worker.
 */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

class Declined extends Error {}
class Shape extends Error {
  constructor(readonly problem: "too_deep" | "too_complex") {
    super(problem);
  }
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** A JSON scan over bytes: UTF-8 never encodes a non-ASCII character with a byte below 0x80. */
class Scanner {
  containers = 0;
  constructor(readonly b: Uint8Array) {}

  skipSpace(i: number): number {
    while (isSpace(this.b[i])) i++;
    return i;
  }

  /** `i` is at an opening quote; the offset after its closing quote. */
  stringEnd(i: number): number {
    for (;;) {
      const end = this.b.indexOf(QUOTE, i + 1);
      if (end < 0) throw new Declined();
      let slashes = 0;
      while (this.b[end - 1 - slashes] === BACKSLASH) slashes++;
      i = end;
      if (slashes % 2 === 0) return end + 1;
    }
  }

  /** A container opened at `depth` (1 for the top level): counted against the body's limits. */
  opened(depth: number): void {
    if (depth > MAX_BODY_DEPTH) throw new Shape("too_deep");
    if (++this.containers > MAX_BODY_CONTAINERS) throw new Shape("too_complex");
  }

  /** The offset after the value starting at `i`, which sits inside `depth` containers. */
  valueEnd(i: number, depth: number): number {
    const b = this.b;
    const first = b[i];
    if (first === QUOTE) return this.stringEnd(i);
    if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
      let inside = 0;
      for (let j = i; j < b.length; j++) {
        const c = b[j]!;
        if (c === QUOTE) j = this.stringEnd(j) - 1;
        else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.opened(depth + ++inside);
        else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --inside === 0) return j + 1;
      }
      throw new Declined();
    }
    // A number, true, false or null: up to the next delimiter (JSON.parse checks the literal).
    let j = i;
    while (j < b.length && !isSpace(b[j]) && b[j] !== COMMA && b[j] !== CLOSE_OBJECT && b[j] !== CLOSE_ARRAY) j++;
    if (j === i) throw new Declined();
    return j;
  }

  expect(i: number, byte: number): number {
    if (this.b[i] !== byte) throw new Declined();
    return i + 1;
  }
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Cuts a sync body (UTF-8 bytes) into its envelope, as JSON text with `"operations": []`, and its
 * operations' byte ranges. Counts nesting and containers like jsonShapeProblem, with the same
 * limits, and operations while it goes: past `maxOperations` it keeps counting but keeps no more
 * ranges (10 million `1,` used to take 80 MB of ranges before the count was checked).
 */
export function splitSyncBody(bytes: Uint8Array, maxOperations = Number.POSITIVE_INFINITY): SplitBody {
  const scan = new Scanner(bytes);
  // A UTF-8 byte order mark is allowed before the JSON, as TextDecoder would drop it.
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const envelopeStart = i;
  try {
    i = scan.skipSpace(i);
    i = scan.expect(i, OPEN_OBJECT);
    scan.opened(1);
    const cut: [number, number][] = [];
    let spans: number[] | null = null;
    let count = 0;
    i = scan.skipSpace(i);
    if (bytes[i] === CLOSE_OBJECT) i++;
    else {
      for (;;) {
        if (bytes[i] !== QUOTE) throw new Declined();
        const keyEnd = scan.stringEnd(i);
        const key: unknown = JSON.parse(strict.decode(bytes.subarray(i, keyEnd)));
        i = scan.skipSpace(scan.expect(scan.skipSpace(keyEnd), COLON));
        const valueStart = i;
        if (key === "operations" && bytes[i] === OPEN_ARRAY) {
          scan.opened(2);
          // JSON.parse keeps the last of repeated keys: so does this.
          spans = [];
          count = 0;
          i = scan.skipSpace(i + 1);
          if (bytes[i] === CLOSE_ARRAY) i++;
          else {
            for (;;) {
              const end = scan.valueEnd(i, 2);
              if (++count <= maxOperations) spans.push(i, end);
              i = scan.skipSpace(end);
              if (bytes[i] === COMMA) i = scan.skipSpace(i + 1);
              else {
                i = scan.expect(i, CLOSE_ARRAY);
                break;
              }
            }
          }
          cut.push([valueStart, i]);
        } else {
          i = scan.valueEnd(i, 1);
        }
        i = scan.skipSpace(i);
        if (bytes[i] === COMMA) i = scan.skipSpace(i + 1);
        else {
          i = scan.expect(i, CLOSE_OBJECT);
          break;
        }
      }
    }
    if (scan.skipSpace(i) !== bytes.length || spans === null) throw new Declined();
    if (count > maxOperations) return { kind: "too_many", count };
    let envelopeBytes = bytes.length - envelopeStart;
    for (const [start, end] of cut) envelopeBytes -= end - start - 2;
    if (envelopeBytes > MAX_ENVELOPE_BYTES) return { kind: "envelope_too_large", bytes: envelopeBytes };
    // The envelope: everything but the operations arrays, each replaced by [].
    let envelope = "";
    let from = envelopeStart;
    for (const [start, end] of cut) {
      envelope += `${strict.decode(bytes.subarray(from, start))}[]`;
      from = end;
    }
    envelope += strict.decode(bytes.subarray(from));
    return { kind: "split", envelope, operations: { bytes, spans: Uint32Array.from(spans) } };
  } catch (err) {
    if (err instanceof Shape) return { kind: err.problem };
    // Declined, or invalid UTF-8 / JSON in a key or the envelope: the whole-body parse reports it.
    return { kind: "whole" };
  }
}

/** Operations in a sync body. */
export function operationCount(operations: OperationBytes): number {
  return operations.spans.length / 2;
}

/**
 * The text of operation `index`, decoded strictly: invalid UTF-8 throws a TypeError (the body is
 * refused as a whole, as it would have been had it been decoded at once).
 */
export function operationText(operations: OperationBytes, index: number): string {
  return strict.decode(operations.bytes.subarray(operations.spans[2 * index], operations.spans[2 * index + 1]));
}

/**
 * The string values of the top-level `names` of operation `index` (the last of repeated keys, as
 * JSON.parse keeps), read without parsing the operation: what identifies an operation too large
 * to parse. A value that is not a short string is left out.
 */
export function operationStrings(operations: OperationBytes, index: number, names: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const b = operations.bytes;
  const end = operations.spans[2 * index + 1]!;
  const scan = new Scanner(b.subarray(0, end));
  try {
    let i = scan.skipSpace(operations.spans[2 * index]!);
    i = scan.skipSpace(scan.expect(i, OPEN_OBJECT));
    while (i < end && b[i] === QUOTE) {
      const keyEnd = scan.stringEnd(i);
      const key: unknown = JSON.parse(strict.decode(b.subarray(i, keyEnd)));
      i = scan.skipSpace(scan.expect(scan.skipSpace(keyEnd), COLON));
      const valueEnd = scan.valueEnd(i, 3);
      if (typeof key === "string" && names.includes(key)) {
        if (b[i] === QUOTE && valueEnd - i <= 4096) found.set(key, JSON.parse(strict.decode(b.subarray(i, valueEnd))) as string);
        else found.delete(key);
      }
      i = scan.skipSpace(valueEnd);
      if (b[i] !== COMMA) break;
      i = scan.skipSpace(i + 1);
    }
  } catch {
    return new Map(); // not an object this scan reads: nothing is certain
  }
  return found;
}

/** Bytes of operation `index`'s JSON text. */
export function operationBytes(operations: OperationBytes, index: number): number {
  return operations.spans[2 * index + 1]! - operations.spans[2 * index]!;
}

/** Operation `index`'s JSON text as bytes (no copy). */
export function operationSlice(operations: OperationBytes, index: number): Uint8Array {
  return operations.bytes.subarray(operations.spans[2 * index], operations.spans[2 * index + 1]);
}
