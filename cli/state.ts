/**
 * The push's state file (`<input>.unified-sync-state.json` by default): the run's sync_timestamp
 * and, per answered part, its Idempotency-Key and sync_id. It exists while a push is unfinished:
 * written before the first part is sent and after each answer, removed once every part was
 * answered (and a full_refresh run completed). A re-run of the same command finds it and reuses
 * the sync_timestamp, so every part has the same body and key as before and the server replays
 * what it already applied; with --resume, the parts it lists are not sent at all.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { sha256Hex } from "./parts";

export interface PartRecord {
  key: string;
  sync_id: string;
}

export interface PushState {
  version: 1;
  /** SHA-256 of what makes two pushes the same push (see identityOf). */
  identity: string;
  sync_timestamp: string;
  started_at: string;
  /** By part number. */
  parts: Record<string, PartRecord>;
}

/** What must match for a state file to belong to this push: target, input and how it is cut into parts. */
export function identityOf(fields: Record<string, unknown>): string {
  return sha256Hex(JSON.stringify(fields));
}

export function loadState(path: string): PushState | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const state = JSON.parse(text) as PushState;
    if (state.version !== 1 || typeof state.sync_timestamp !== "string" || typeof state.parts !== "object") return null;
    return state;
  } catch {
    return null;
  }
}

export class StateFile {
  private warned = false;

  constructor(
    readonly path: string | null,
    readonly state: PushState,
    private readonly warn: (message: string) => void,
  ) {}

  record(part: number, entry: PartRecord) {
    this.state.parts[String(part)] = entry;
    this.save();
  }

  get(part: number): PartRecord | undefined {
    return this.state.parts[String(part)];
  }

  save() {
    if (this.path === null) return;
    try {
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(this.state, null, 1)}\n`);
      renameSync(tmp, this.path);
    } catch (err) {
      if (!this.warned) this.warn(`cannot write the state file ${this.path} (${(err as Error).message}); this push cannot be resumed`);
      this.warned = true;
    }
  }

  remove() {
    if (this.path !== null) rmSync(this.path, { force: true });
  }
}
