/**
 * JSON lines from a byte stream, one at a time: the input is never held whole (a 1 GB file
 * costs one chunk plus one line). Lines are split on bytes and decoded with a fatal UTF-8
 * decoder, so invalid bytes are reported with their line number, never replaced with U+FFFD.
 * A line longer than `maxLineBytes` is reported and skipped without being buffered.
 */
import type { Readable } from "node:stream";

export type Line =
  | { number: number; text: string; bytes: number }
  | { number: number; error: "LINE_TOO_LONG" | "INVALID_UTF8"; message: string; bytes: number };

const NEWLINE = 0x0a;
const CR = 0x0d;

export interface LineReader {
  lines: AsyncGenerator<Line>;
  /** Bytes consumed from the stream so far (for progress). */
  bytesRead(): number;
}

export function readLines(stream: Readable, maxLineBytes: number): LineReader {
  let consumed = 0;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  function decode(number: number, pieces: Buffer[], length: number, first: boolean): Line | null {
    let buf = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
    if (buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
    // A UTF-8 byte order mark at the start of the input is not part of the first record.
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      return { number, error: "INVALID_UTF8", message: "the line is not valid UTF-8", bytes: length };
    }
    return text.trim() === "" ? null : { number, text, bytes: length };
  }

  /** A finished line: too long (its bytes were not kept), or decoded (null for a blank one). */
  function complete(number: number, pieces: Buffer[], length: number, overlong: boolean): Line | null {
    if (overlong) {
      return {
        number,
        error: "LINE_TOO_LONG",
        message: `the line is ${length} bytes; a sync request may be at most ${maxLineBytes}`,
        bytes: length,
      };
    }
    return decode(number, pieces, length, number === 1);
  }

  async function* generate(): AsyncGenerator<Line> {
    let number = 0;
    let pieces: Buffer[] = [];
    let length = 0;
    let overlong = false;
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      consumed += buf.length;
      let start = 0;
      for (;;) {
        const end = buf.indexOf(NEWLINE, start);
        const piece = buf.subarray(start, end < 0 ? buf.length : end);
        if (!overlong) {
          if (length + piece.length > maxLineBytes) {
            overlong = true;
            pieces = [];
          } else if (piece.length > 0) {
            // Copied: the stream may reuse its chunk buffers.
            pieces.push(end < 0 ? Buffer.from(piece) : piece);
          }
        }
        length += piece.length;
        if (end < 0) break;
        number++;
        const line = complete(number, pieces, length, overlong);
        if (line) yield line;
        pieces = [];
        length = 0;
        overlong = false;
        start = end + 1;
      }
    }
    if (length > 0 || overlong) {
      number++;
      const line = complete(number, pieces, length, overlong);
      if (line) yield line;
    }
  }

  return { lines: generate(), bytesRead: () => consumed };
}
