/**
 * The configured catalog of `airbyte write`: each stream's namespace, id rule and sync mode.
 *
 * - `overwrite`, and a stream whose minimum_generation_id equals its generation_id (> 0: Airbyte
 *   asks to drop older generations; generation 0 of a first sync has nothing older to drop), is a
 *   full_refresh run of its namespace;
 * - `append` and `append_dedup` are incremental syncs; `append_dedup` needs a primary key.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { PipelineConfig } from "../pipeline/config";
import { NamespaceMap, streamLabel } from "../pipeline/namespaces";

const ConfiguredStream = z.object({
  stream: z.object({
    name: z.string().min(1),
    namespace: z.string().nullish(),
  }),
  destination_sync_mode: z.enum(["append", "overwrite", "append_dedup"]),
  primary_key: z.array(z.array(z.string()).min(1)).nullish(),
  generation_id: z.number().int().nullish(),
  minimum_generation_id: z.number().int().nullish(),
});

const ConfiguredCatalog = z.object({ streams: z.array(ConfiguredStream).max(10_000) });

export interface StreamPlan {
  label: string;
  name: string;
  sourceNamespace: string | null;
  namespace: string;
  keyPaths: string[][];
  mode: "append" | "overwrite" | "append_dedup";
  /** A full_refresh run (overwrite, or a truncating generation). */
  refresh: boolean;
}

export const streamKey = (namespace: string | null | undefined, name: string) => JSON.stringify([namespace ?? null, name]);

export function loadCatalog(path: string, config: PipelineConfig): { streams: Map<string, StreamPlan> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    return { error: `cannot read the catalog ${path}: ${(err as Error).message}` };
  }
  const parsed = ConfiguredCatalog.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `the catalog ${path}: ${issue.path.join(".")} ${issue.message}` };
  }
  const names = new NamespaceMap(config.namespace_prefix, config.stream_namespaces);
  const streams = new Map<string, StreamPlan>();
  for (const s of parsed.data.streams) {
    const ref = { name: s.stream.name, namespace: s.stream.namespace ?? null };
    const label = streamLabel(ref);
    const key = streamKey(ref.namespace, ref.name);
    if (streams.has(key)) return { error: `the catalog lists stream '${label}' twice` };
    const mapped = names.claim(ref);
    if ("error" in mapped) return mapped;
    const keyPaths = s.primary_key ?? [];
    if (s.destination_sync_mode === "append_dedup" && keyPaths.length === 0) {
      return { error: `stream '${label}' is append_dedup without a primary_key: give it a primary key in the connection, or use append` };
    }
    const truncates = s.generation_id != null && s.generation_id > 0 && s.minimum_generation_id === s.generation_id;
    streams.set(key, {
      label,
      name: ref.name,
      sourceNamespace: ref.namespace,
      namespace: mapped.namespace,
      keyPaths,
      mode: s.destination_sync_mode,
      refresh: s.destination_sync_mode === "overwrite" || truncates,
    });
  }
  return { streams };
}
