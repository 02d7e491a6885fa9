/**
 * `unified-sync push --dry-run`: every line checked offline with the server's own zod schema
 * (the sync schema's SyncOperation), its exact-number parse and its record size limit, and the
 * parts the push would send counted. Nothing is sent; one line is held at a time.
 */
import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { holdsExactly, MAYBE_INEXACT } from "../src/http/json-text";
import { describeFields } from "../src/errors";
import { fieldErrors } from "../src/schemas/common";
import { SyncOperation } from "../src/schemas/sync";
import { IdCollisions, refuseCollidingId } from "./id-collisions";
import { readLines } from "./lines";
import { ENVELOPE_RESERVE_BYTES } from "./parts";
import { toOperation, type Mapping } from "./records";
import { MAX_KEPT_FAILURES, count } from "./report";
import { printable } from "./terminal-text";

export interface DryRunOptions {
  file: string | null;
  mapping: Mapping;
  maxOperations: number;
  maxBodyBytes: number;
}

export interface BadLine {
  line: number;
  code: string;
  message: string;
}

export interface DryRunReport {
  lines: number;
  operations: number;
  upserts: number;
  deletes: number;
  namespaces: number;
  parts: number;
  bad: number;
  bad_lines: BadLine[];
  bytes: number;
  elapsed_ms: number;
}

const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * The first number literal of a JSON text that a float64 cannot hold exactly (1e400, a 19-digit
 * id). The server refuses such an operation; its parser sees the literal's source text, which
 * JSON.parse offers only from Node 21, so on Node 20 this scan stands in for it.
 */
export function inexactNumber(text: string): string | null {
  if (!MAYBE_INEXACT.test(text)) return null;
  for (const [literal] of text.matchAll(TOKENS)) {
    if (literal.startsWith('"')) continue;
    if (!holdsExactly(literal, Number(literal))) return literal;
  }
  return null;
}

export async function dryRun(o: DryRunOptions): Promise<DryRunReport> {
  const started = Date.now();
  let stream: Readable;
  if (o.file !== null) {
    if (!statSync(o.file).isFile()) throw new Error(`${o.file} is not a file`);
    stream = createReadStream(o.file, { highWaterMark: 1 << 20 });
  } else {
    stream = process.stdin;
  }
  const maxOperationBytes = o.maxBodyBytes - ENVELOPE_RESERVE_BYTES;
  const reader = readLines(stream, maxOperationBytes);
  const report: DryRunReport = {
    lines: 0,
    operations: 0,
    upserts: 0,
    deletes: 0,
    namespaces: 0,
    parts: 0,
    bad: 0,
    bad_lines: [],
    bytes: 0,
    elapsed_ms: 0,
  };
  const namespaces = new Set<string>();
  const ids = new IdCollisions();
  const bad = (b: BadLine) => {
    report.bad++;
    if (report.bad_lines.length < MAX_KEPT_FAILURES) report.bad_lines.push(b);
  };
  // The parts the push would cut (same rule as PartBuilder, counting only).
  let partOps = 0;
  let partBytes = 0;

  for await (const line of reader.lines) {
    report.lines = line.number;
    if ("error" in line) {
      bad({ line: line.number, code: line.error, message: line.message });
      continue;
    }
    const op = toOperation(line.number, line.text, o.mapping);
    if (op.kind === "skip") {
      bad({ line: op.line, code: op.code, message: op.message });
      continue;
    }
    const collision = refuseCollidingId(ids, op);
    if (collision) {
      bad({ line: op.line, code: collision.code, message: collision.message });
      continue;
    }
    if (op.bytes > maxOperationBytes) {
      bad({
        line: op.line,
        code: "OPERATION_TOO_LARGE",
        message: `the operation is ${op.bytes} bytes; a part holds at most ${maxOperationBytes}`,
      });
      continue;
    }
    const parsed = SyncOperation.safeParse(op.value);
    if (!parsed.success) {
      const onlyVector = parsed.error.issues.every((issue) => issue.path[0] === "vector");
      bad({
        line: op.line,
        code: onlyVector ? "INVALID_VECTOR" : "INVALID_OPERATION",
        message: describeFields(fieldErrors(parsed.error, op.value, "operation")),
      });
      continue;
    }
    const inexact = inexactNumber(op.json);
    if (inexact !== null) {
      bad({
        line: op.line,
        code: "INVALID_OPERATION",
        message:
          `the number ${inexact.slice(0, 40)} cannot be held exactly by a JavaScript number ` +
          "(out of range, or more significant digits than a 64-bit float keeps): send it as a string",
      });
      continue;
    }
    report.operations++;
    if (parsed.data.action === "upsert") report.upserts++;
    else report.deletes++;
    namespaces.add(parsed.data.namespace);
    if (partOps === 0 || partOps >= o.maxOperations || partBytes + 1 + op.bytes > maxOperationBytes) {
      report.parts++;
      partOps = 0;
      partBytes = -1;
    }
    partOps++;
    partBytes += 1 + op.bytes;
  }
  report.bytes = reader.bytesRead();
  report.namespaces = namespaces.size;
  report.elapsed_ms = Date.now() - started;
  return report;
}

export function renderDryRun(r: DryRunReport, showFailures: number): string {
  const out: string[] = [];
  for (const b of r.bad_lines.slice(0, showFailures)) out.push(`line ${b.line}: ${printable(b.code)}: ${printable(b.message)}`);
  if (r.bad > showFailures)
    out.push(`... and ${(r.bad - showFailures).toLocaleString("en-US")} more bad lines (--json lists up to ${MAX_KEPT_FAILURES})`);
  if (out.length) out.push("");
  out.push(
    `dry run: ${count(r.lines, "line")}, ${count(r.operations, "valid operation")} (${count(r.upserts, "upsert")}, ` +
      `${count(r.deletes, "delete")}) in ${count(r.namespaces, "namespace")}, ${count(r.bad, "bad line")}; ` +
      `a push would send ${count(r.parts, "part")}. Nothing was sent.`,
  );
  return out.join("\n");
}
