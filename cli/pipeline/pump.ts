/**
 * What the Airbyte destination and the Singer target share around their message handling: the
 * Writer built from the pipeline config, and the input loop that commits and releases held
 * checkpoints, on time even while the source is silent (a read waits at most until the oldest
 * held checkpoint is due, then the writer flushes).
 */
import type { Readable } from "node:stream";
import { createSyncClient } from "../../src/client/index";
import { SERVER_MAX_BODY_BYTES } from "../parts";
import { DEFAULT_RETRY, type RetryPolicy } from "../retry";
import { Checkpoints } from "./checkpoints";
import type { PipelineConfig } from "./config";
import { messageLines } from "./input";
import { Writer } from "./writer";

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The input is wrong (not the service, not the network): reported without a stack. */
export class InputError extends Error {}

export interface PipelineClient {
  client: ReturnType<typeof createSyncClient>;
  writer: Writer;
  retry: RetryPolicy;
}

/** The sync client and the Writer of a pipeline config; `log` hears the writer's messages. */
export function pipelineWriter(
  config: PipelineConfig,
  userAgent: string,
  log: (level: "INFO" | "WARN", message: string) => void,
): PipelineClient {
  const retry = { ...DEFAULT_RETRY, attempts: config.max_retries };
  const client = createSyncClient({ baseUrl: config.url, apiKey: config.api_key, headers: { "User-Agent": userAgent } });
  const writer = new Writer({
    client,
    organizationId: config.organization_id,
    vectorStoreId: config.vector_store_id,
    retry,
    maxOperations: config.batch_size,
    maxBodyBytes: SERVER_MAX_BODY_BYTES,
    log,
    url: config.url,
  });
  return { client, writer, retry };
}

/** One input line's text and number, as the handler sees it. */
export interface MessageLine {
  number: number;
  text: string;
}

/**
 * The input loop. `handle` takes each message line and returns its message type, or null when the
 * line was ignored; records it counts through `received`. States are `checkpoints.add`ed by the
 * handler; `emit` gets the checkpoints that became releasable (every record before them committed),
 * in arrival order.
 */
export class MessagePump {
  readonly checkpoints = new Checkpoints<string>();
  private releasedAt = -1;

  constructor(
    private readonly writer: Writer,
    private readonly intervalMs: number,
    private readonly received: () => number,
    private readonly emit: (ready: string[]) => void,
  ) {}

  /** Emits the held checkpoints that every record before them now allows. */
  release(): void {
    this.releasedAt = this.writer.totals.requests;
    const ready = this.checkpoints.release(this.writer.committedThrough(this.received()));
    if (ready.length > 0) this.emit(ready);
  }

  async run(input: Readable, handle: (line: MessageLine) => Promise<string | null>): Promise<void> {
    const lines = messageLines(input);
    for (;;) {
      const next = await lines.next(this.checkpoints.waitMs(this.intervalMs));
      if (next === "end") return;
      if (next === "timeout") {
        await this.writer.flush();
        this.release();
        continue;
      }
      if ("error" in next) throw new InputError(`input line ${next.number}: ${next.message}`);
      const type = await handle(next);
      if (type === null) continue;
      if (this.checkpoints.due(this.intervalMs)) await this.writer.flush();
      // Held checkpoints can only become releasable when a request was answered or a state arrived:
      // checked then, not on every record (committedThrough looks at every run's buffer).
      if (this.checkpoints.size > 0 && (type === "STATE" || this.writer.totals.requests !== this.releasedAt)) this.release();
    }
  }
}
