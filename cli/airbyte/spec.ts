/**
 * The destination's SPEC: the config's JSON schema (the keys PipelineConfig reads) and the sync
 * modes it supports.
 */
import { DEFAULT_FLUSH_SECONDS } from "../pipeline/config";
import { SERVER_MAX_OPERATIONS } from "../parts";
import { DEFAULT_RETRY } from "../retry";

export function specMessage() {
  return {
    type: "SPEC",
    spec: {
      supportsIncremental: true,
      supported_destination_sync_modes: ["overwrite", "append", "append_dedup"],
      connectionSpecification: {
        $schema: "http://json-schema.org/draft-07/schema#",
        title: "Unified Sync Destination Spec",
        type: "object",
        required: ["url", "api_key", "organization_id", "vector_store_id"],
        additionalProperties: true,
        properties: {
          url: {
            type: "string",
            title: "Service URL",
            description: "Base URL of the unified sync endpoint, e.g. https://sync.example.com",
            pattern: "^https?://",
            order: 0,
          },
          api_key: {
            type: "string",
            title: "API key",
            description: "An API key of the organization (sent as X-API-Key).",
            airbyte_secret: true,
            order: 1,
          },
          organization_id: {
            type: "string",
            title: "Organization id",
            pattern: "^org_[A-Za-z0-9_-]{1,60}$",
            examples: ["org_abc123"],
            order: 2,
          },
          vector_store_id: {
            type: "string",
            title: "Vector store id",
            pattern: "^vs_[A-Za-z0-9_-]{1,61}$",
            examples: ["vs_demo"],
            order: 3,
          },
          namespace_prefix: {
            type: "string",
            title: "Namespace prefix",
            description:
              "Prepended to every stream's namespace. A stream's namespace is this prefix, its source namespace and '.' when it has one, and its name; characters other than letters, digits, '_', '-' and '.' become '_'.",
            pattern: "^[A-Za-z0-9_.-]{0,63}$",
            default: "",
            order: 4,
          },
          stream_namespaces: {
            type: "array",
            title: "Stream namespaces",
            description: "Explicit namespaces for some streams (they win over the rule above).",
            order: 5,
            items: {
              type: "object",
              required: ["stream", "namespace"],
              properties: {
                stream: { type: "string", title: "Stream name" },
                stream_namespace: { type: "string", title: "Source namespace of the stream (if it has one)" },
                namespace: { type: "string", title: "Namespace in the vector store", pattern: "^[A-Za-z0-9_.-]{1,64}$" },
              },
            },
          },
          batch_size: {
            type: "integer",
            title: "Operations per request",
            minimum: 1,
            maximum: SERVER_MAX_OPERATIONS,
            default: SERVER_MAX_OPERATIONS,
            order: 6,
          },
          max_retries: {
            type: "integer",
            title: "Attempts per request",
            description: "Attempts of a request answered 429, 503 or lost on the network (Retry-After is honoured).",
            minimum: 1,
            maximum: 100,
            default: DEFAULT_RETRY.attempts,
            order: 7,
          },
          flush_interval_seconds: {
            type: "number",
            title: "Longest wait of a state",
            description: "A state message waits at most this long for a fuller request before what came before it is sent.",
            minimum: 0.1,
            maximum: 3600,
            default: DEFAULT_FLUSH_SECONDS,
            order: 8,
          },
        },
      },
    },
  };
}
