export function rng(seed: number): () => number;
export function makeRecord(r: () => number, i: number, version?: number): Record<string, unknown>;
export function upserts(
  count: number,
  options?: { seed?: number; prefix?: string; namespace?: string; offset?: number; version?: number },
): { action: "upsert"; id: string; namespace: string; data: Record<string, unknown> }[];
