/**
 * `unified-sync`: the command line (commander), option checks, output and exit codes.
 * Exit codes: 0 everything applied; 2 some operations failed or were not sent (or a full_refresh
 * run was left open); 1 the push failed (a refused request, retries exhausted, bad options or
 * input, an interruption) or, with --dry-run, some line is bad.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { OrganizationId, Namespace, Timestamp, VectorStoreId } from "../src/schemas/common";
import { registerAirbyte } from "./airbyte/command";
import { dryRun, renderDryRun } from "./dry-run";
import { SERVER_MAX_BODY_BYTES, SERVER_MAX_OPERATIONS } from "./parts";
import { push } from "./push";
import type { Mapping } from "./records";
import { renderSummary } from "./report";
import { DEFAULT_RETRY } from "./retry";
import { registerSinger } from "./singer/command";
import { printable, printableJson, printableLines } from "./terminal-text";

export const API_KEY_ENV = "UNIFIED_SYNC_API_KEY";
const DEFAULT_URL = "http://127.0.0.1:8787";

function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

function seconds(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of seconds");
  return n;
}

function checked(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }) {
  return (value: string) => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(r.error!.issues[0]!.message);
    return value;
  };
}

interface Flags {
  store?: string;
  org?: string;
  mode: "incremental" | "full_refresh";
  url: string;
  namespace?: string;
  idField?: string;
  deleteField?: string;
  syncTimestamp?: string;
  resume?: boolean;
  restart?: boolean;
  stateFile?: string;
  batchSize: number;
  maxBodyBytes: number;
  retries: number;
  maxBackoff: number;
  timeout: number;
  json?: boolean;
  dryRun?: boolean;
  progress: boolean;
  showFailures: number;
}

function program(): Command {
  const cmd = new Command("unified-sync")
    .description("Tools for the unified sync endpoint")
    .showHelpAfterError("(unified-sync push --help lists the options)")
    .exitOverride();

  cmd
    .command("push")
    .description(`Push a JSON-lines file (or stdin) to a vector store as sync requests. The API key is read from $${API_KEY_ENV}.`)
    .argument("[file]", "JSON lines; '-' or none reads stdin")
    .option("--store <vs_id>", "vector store id", checked(VectorStoreId))
    .option("--org <org_id>", "organization id", checked(OrganizationId))
    .addOption(new Option("--mode <mode>", "sync mode").choices(["incremental", "full_refresh"]).default("incremental"))
    .option("--url <url>", `service URL (or $UNIFIED_SYNC_URL)`, process.env.UNIFIED_SYNC_URL ?? DEFAULT_URL)
    .option("--namespace <ns>", "each line is a raw record of this namespace; the whole object becomes data", checked(Namespace))
    .option("--id-field <field>", "with --namespace: the field holding the record id (default: id)")
    .option("--delete-field <field>", "with --namespace: a record whose field is truthy is deleted")
    .option("--sync-timestamp <iso>", "the sync_timestamp (default: now, or the unfinished push's)", checked(Timestamp))
    .option("--resume", "skip the parts an unfinished push of the same file already had answered")
    .option("--restart", "ignore the state of an unfinished push: start a new one (new sync_timestamp)")
    .option("--state-file <path>", "state file (default: <file>.unified-sync-state.json; none for stdin)")
    .option("--batch-size <n>", "operations per request", integer(1, SERVER_MAX_OPERATIONS), SERVER_MAX_OPERATIONS)
    .option("--max-body-bytes <n>", "request body limit in bytes", integer(256 * 1024, SERVER_MAX_BODY_BYTES), SERVER_MAX_BODY_BYTES)
    .option("--retries <n>", "attempts per request on 429, 503 and network errors", integer(1, 100), DEFAULT_RETRY.attempts)
    .option(
      "--max-backoff <seconds>",
      "cap of the exponential backoff (Retry-After is honoured up to 120 s)",
      seconds,
      DEFAULT_RETRY.maxBackoffMs / 1000,
    )
    .option("--timeout <seconds>", "per request", seconds, DEFAULT_RETRY.timeoutMs / 1000)
    .option("--json", "print the summary as JSON on stdout")
    .option("--dry-run", "validate every line offline with the server's schemas; send nothing")
    .option("--no-progress", "no progress output on stderr")
    .option("--show-failures <n>", "failed operations listed in the summary", integer(0, 1000), 10)
    .action(async (file: string | undefined, flags: Flags) => {
      process.exitCode = await runPush(file === undefined || file === "-" ? null : file, flags);
    });
  registerAirbyte(cmd);
  registerSinger(cmd);
  return cmd;
}

async function runPush(file: string | null, f: Flags): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`unified-sync push: ${printable(message)}\n`);
    return 1;
  };
  if ((f.idField !== undefined || f.deleteField !== undefined) && f.namespace === undefined) {
    return fail("--id-field and --delete-field describe raw records: give --namespace too");
  }
  const mapping: Mapping = {
    ...(f.namespace !== undefined ? { namespace: f.namespace, idField: f.idField ?? "id" } : {}),
    ...(f.deleteField !== undefined ? { deleteField: f.deleteField } : {}),
  };

  if (f.dryRun) {
    try {
      const report = await dryRun({ file, mapping, maxOperations: f.batchSize, maxBodyBytes: f.maxBodyBytes });
      process.stdout.write(`${f.json ? printableJson(report) : renderDryRun(report, f.showFailures)}\n`);
      return report.bad > 0 ? 1 : 0;
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  if (f.store === undefined || f.org === undefined) return fail("--store and --org are required (or --dry-run)");
  const apiKey = process.env[API_KEY_ENV];
  if (!apiKey) return fail(`set the API key in $${API_KEY_ENV} (it is never a flag, so it stays out of shell history)`);
  let url: string;
  try {
    url = new URL(f.url).toString().replace(/\/+$/, "");
  } catch {
    return fail(`--url ${f.url} is not a URL`);
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write("\ninterrupted: stopping after saving the state (Ctrl-C again to quit at once)\n");
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let summary: Awaited<ReturnType<typeof push>>;
  try {
    summary = await push(
      {
        file,
        url,
        apiKey,
        org: f.org,
        store: f.store,
        mode: f.mode,
        syncTimestamp: f.syncTimestamp ?? null,
        mapping,
        resume: Boolean(f.resume),
        restart: Boolean(f.restart),
        stateFile: f.stateFile ?? null,
        maxOperations: f.batchSize,
        maxBodyBytes: f.maxBodyBytes,
        retry: { ...DEFAULT_RETRY, attempts: f.retries, maxBackoffMs: f.maxBackoff * 1000, timeoutMs: f.timeout * 1000 },
        quiet: !f.progress,
        tty: Boolean(process.stderr.isTTY),
      },
      controller.signal,
      (m) => process.stderr.write(`unified-sync push: ${printable(m)}\n`),
    );
  } catch (err) {
    // Before anything was sent: the input cannot be opened, or --resume has no state to use.
    const message = err instanceof Error ? err.message : String(err);
    if (f.json) process.stdout.write(`${printableJson({ status: "failed", exit_code: 1, error: { message, code: "INPUT_ERROR" } })}\n`);
    return fail(message);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (f.json) process.stdout.write(`${printableJson(summary)}\n`);
  else process.stdout.write(`${renderSummary(summary, f.showFailures)}\n`);
  return summary.exitCode;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    // commander already printed its usage errors (exitOverride); help exits 0.
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 1;
    } else {
      process.stderr.write(`unified-sync: ${printableLines(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
      process.exitCode = 1;
    }
  }
}
