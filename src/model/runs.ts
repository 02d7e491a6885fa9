// full_refresh runs: as stored, and as GET .../runs/{store}/{timestamp} shows them.
import type { z } from "zod";
import type { Counts } from "../schemas/sync";
import type { RunResponse } from "../schemas/lists";

/** A run as stored. The Durable Object of the store serialises its syncs, so read-modify-write is safe. */
export interface RunRow {
  vector_store_id: string;
  sync_timestamp: string;
  state: "open" | "completed";
  final_sync_id: string | null;
  parts: number;
  results: Counts;
  namespaces: string[];
  /** Records whose operation failed in a part and that no later part applied: their namespaces are not swept. */
  failed_keys: [string, string][];
  blocked: string[];
  swept: number;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** Blocked entry meaning "an operation whose namespace is unknown failed": nothing is swept. */
export const ALL_NAMESPACES = "*";

export type RunState = RunView["state"];

/** What GET .../runs/{store}/{timestamp} answers. */
export type RunView = z.infer<typeof RunResponse>;
