/**
 * The config file of the Airbyte destination and the Singer target (the same keys for both):
 * where the service is, which store, how streams become namespaces, and how requests are cut.
 * `connectionSpecification` (the Airbyte SPEC) describes exactly these keys.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { Namespace, OrganizationId, VectorStoreId } from "../../src/schemas/common";
import { SERVER_MAX_OPERATIONS } from "../parts";
import { DEFAULT_RETRY } from "../retry";

export const DEFAULT_FLUSH_SECONDS = 30;

export const PipelineConfig = z.object({
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. https://sync.example.com" }),
  api_key: z.string({ error: "must be the API key (a string)" }).min(1, "must not be empty"),
  organization_id: OrganizationId,
  vector_store_id: VectorStoreId,
  namespace_prefix: z
    .string()
    .max(63)
    .regex(/^[A-Za-z0-9_.-]*$/, "may hold only letters, digits, '_', '-' and '.'")
    .default(""),
  stream_namespaces: z
    .array(
      z.object({
        stream: z.string().min(1),
        stream_namespace: z.string().min(1).optional(),
        namespace: Namespace,
      }),
    )
    .max(5000)
    .default([]),
  batch_size: z.number().int().min(1).max(SERVER_MAX_OPERATIONS).default(SERVER_MAX_OPERATIONS),
  max_retries: z.number().int().min(1).max(100).default(DEFAULT_RETRY.attempts),
  flush_interval_seconds: z.number().min(0.1).max(3600).default(DEFAULT_FLUSH_SECONDS),
});
export type PipelineConfig = z.infer<typeof PipelineConfig>;

/** The config, or a message naming the file and the first bad key. */
export function loadConfig(path: string): { config: PipelineConfig } | { error: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return { error: `cannot read the config file ${path}: ${(err as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `the config file ${path} is not JSON: ${(err as Error).message}` };
  }
  const parsed = PipelineConfig.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `config: ${issue.path.length ? issue.path.join(".") : "the file"} ${issue.message}` };
  }
  return { config: { ...parsed.data, url: parsed.data.url.replace(/\/+$/, "") } };
}
