/**
 * Checkpoints (Airbyte STATE, Singer STATE) waiting for the records before them to be committed.
 * Each is held with its watermark (how many records had arrived before it) and released, in
 * arrival order, once `committedThrough` reaches that watermark. The queue is bounded: past
 * MAX_HELD checkpoints or MAX_HELD_BYTES of them, `due` asks the caller to flush.
 */
const MAX_HELD = 10_000;
const MAX_HELD_BYTES = 16 * 1024 * 1024;

interface Held<T> {
  watermark: number;
  value: T;
  bytes: number;
  since: number;
}

export class Checkpoints<T> {
  private readonly queue: Held<T>[] = [];
  private bytes = 0;

  add(watermark: number, value: T, bytes: number) {
    this.queue.push({ watermark, value, bytes, since: Date.now() });
    this.bytes += bytes;
  }

  get size() {
    return this.queue.length;
  }

  /** A flush is due: the oldest held checkpoint waited `intervalMs`, or the queue is at its bound. */
  due(intervalMs: number, now = Date.now()): boolean {
    const oldest = this.queue[0];
    if (!oldest) return false;
    return now - oldest.since >= intervalMs || this.queue.length >= MAX_HELD || this.bytes >= MAX_HELD_BYTES;
  }

  /** Milliseconds until the oldest checkpoint is due, or null when none is held. */
  waitMs(intervalMs: number, now = Date.now()): number | null {
    const oldest = this.queue[0];
    return oldest ? Math.max(0, oldest.since + intervalMs - now) : null;
  }

  /** The checkpoints whose records are all committed, oldest first, removed from the queue. */
  release(committedThrough: number): T[] {
    const out: T[] = [];
    while (this.queue.length > 0 && this.queue[0]!.watermark <= committedThrough) {
      const held = this.queue.shift()!;
      this.bytes -= held.bytes;
      out.push(held.value);
    }
    return out;
  }
}
