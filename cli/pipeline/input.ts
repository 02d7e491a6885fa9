/**
 * The pipeline's stdin as lines that can be waited for with a deadline: the destination must
 * commit and release held checkpoints while a slow source sends nothing, without two reads ever
 * racing (the pending read is kept and awaited again after a timeout).
 */
import type { Readable } from "node:stream";
import { type Line, readLines } from "../lines";

/** A message line may be this long (a record is at most 256 KiB; a state can be large). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export type Next = Line | "end" | "timeout";

export function messageLines(stream: Readable) {
  const lines = readLines(stream, MAX_MESSAGE_BYTES).lines;
  let pending: Promise<IteratorResult<Line>> | null = null;
  return {
    /** The next line, "end" at the end of input, or "timeout" after `ms` (null: no deadline). */
    async next(ms: number | null): Promise<Next> {
      pending ??= lines.next();
      const current = pending;
      let timer: NodeJS.Timeout | undefined;
      const result =
        ms === null
          ? await current
          : await Promise.race([current, new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)))]);
      clearTimeout(timer);
      if (result === "timeout") return "timeout";
      pending = null;
      return result.done ? "end" : result.value;
    },
  };
}
