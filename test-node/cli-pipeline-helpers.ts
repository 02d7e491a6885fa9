// Helpers of the Airbyte destination's and Singer target's tests: the CLI run with a message stream
// on stdin and its stdout read line by line as it comes, a recording proxy that keeps which
// operations each answered sync committed (so a test can tell what was committed when a state was
// printed), the protocol's message shapes, and search.
import { spawn } from "node:child_process";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { CLI, root } from "./cli-helpers";

export interface OutLine {
  text: string;
  /** Sync answers the recording proxy had delivered when the test read this line (null: no proxy). */
  answered: number | null;
}

export interface PipelineRun {
  code: number | null;
  lines: OutLine[];
  stderr: string;
}

/** `unified-sync <args>` started with stdin open; each stdout line stamped with the proxy's answered count. */
export function startPipeline(args: string[], recorder: Recorder | null = null) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  const lines: OutLine[] = [];
  let partial = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const answered = recorder ? recorder.answered.length : null;
    const pieces = (partial + chunk.toString()).split("\n");
    partial = pieces.pop()!;
    for (const text of pieces) lines.push({ text, answered });
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin!.on("error", () => {
    /* the CLI may stop reading after a failure */
  });
  const done = new Promise<PipelineRun>((resolve) => {
    child.once("close", (code) => {
      if (partial !== "") lines.push({ text: partial, answered: recorder ? recorder.answered.length : null });
      resolve({ code, lines, stderr });
    });
  });
  return { stdin: child.stdin!, lines, done };
}

/** `unified-sync <args>` with `input` on stdin. */
export function runPipeline(args: string[], input: string, recorder: Recorder | null = null): Promise<PipelineRun> {
  const started = startPipeline(args, recorder);
  started.stdin.end(input);
  return started.done;
}

export interface Recorder {
  base: string;
  /** Per sync answered 200, in delivery order: "namespace\u0000id" of each operation it carried. */
  answered: string[][];
  close(): Promise<void>;
}

export const opKey = (namespace: string, id: string) => `${namespace}\u0000${id}`;

/** A pass-through proxy that records the operations of every sync request answered 200 (when the answer is delivered). */
export async function startRecorder(target: string): Promise<Recorder> {
  const answered: string[][] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && !["host", "connection", "content-length", "transfer-encoding"].includes(k)) headers[k] = v;
    }
    try {
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(body.length ? { body } : {}) });
      const answer = Buffer.from(await upstream.arrayBuffer());
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)) out[k] = v;
      });
      if (req.method === "POST" && /\/pipeline\/sync$/.test(req.url ?? "") && upstream.status === 200) {
        const ops = (JSON.parse(body.toString()) as { operations: { namespace: string; id: string }[] }).operations;
        answered.push(ops.map((o) => opKey(o.namespace, o.id)));
      }
      res.writeHead(upstream.status, { ...out, "Content-Length": String(answer.length) });
      res.end(answer);
    } catch (err) {
      res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`recorder: ${String(err)}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const LOG_LEVELS = new Set(["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"]);
const FAILURE_TYPES = new Set(["system_error", "config_error", "transient_error"]);
const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What is wrong with one stdout line of the Airbyte destination, or null: it must be one JSON
 * AirbyteMessage with its type's member and nothing else at the top level, shaped as the Airbyte
 * Protocol says.
 */
export function airbyteShapeProblem(text: string): string | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (!isObject(m)) return "not an object";
  const member = (
    { LOG: "log", STATE: "state", TRACE: "trace", SPEC: "spec", CONNECTION_STATUS: "connectionStatus" } as Record<string, string>
  )[m.type];
  if (!member) return `type ${String(m.type)} is not one a destination writes`;
  const keys = Object.keys(m).sort();
  if (keys.length !== 2 || !keys.includes(member)) return `top-level keys ${keys.join(",")} (want type and ${member})`;
  const v = m[member];
  if (!isObject(v)) return `${member} is not an object`;
  switch (m.type) {
    case "LOG":
      return LOG_LEVELS.has(v.level) && typeof v.message === "string" ? null : "LOG needs a level and a message";
    case "STATE":
      if (!["STREAM", "GLOBAL", "LEGACY"].includes(v.type)) return "STATE type must be STREAM, GLOBAL or LEGACY";
      if (
        v.type === "STREAM" &&
        !(isObject(v.stream) && isObject(v.stream.stream_descriptor) && typeof v.stream.stream_descriptor.name === "string")
      ) {
        return "a STREAM state needs stream.stream_descriptor.name";
      }
      if (v.type === "GLOBAL" && !isObject(v.global)) return "a GLOBAL state needs global";
      return isObject(v.destinationStats) && typeof v.destinationStats.recordCount === "number"
        ? null
        : "STATE needs destinationStats.recordCount";
    case "TRACE":
      if (v.type !== "ERROR" || typeof v.emitted_at !== "number" || !isObject(v.error))
        return "TRACE needs type ERROR, emitted_at and error";
      return typeof v.error.message === "string" && FAILURE_TYPES.has(v.error.failure_type)
        ? null
        : "TRACE error needs message and failure_type";
    case "SPEC":
      return isObject(v.connectionSpecification) && Array.isArray(v.supported_destination_sync_modes)
        ? null
        : "SPEC needs connectionSpecification";
    default:
      return ["SUCCEEDED", "FAILED"].includes(v.status) && typeof v.message === "string"
        ? null
        : "CONNECTION_STATUS needs status and message";
  }
}

/** Every line shaped right; returns the parsed messages. */
export function airbyteMessages(run: PipelineRun): any[] {
  const problems = run.lines.map((l, i) => [i, l.text, airbyteShapeProblem(l.text)] as const).filter(([, , p]) => p !== null);
  if (problems.length > 0) throw new Error(`stdout lines that are not Airbyte messages: ${JSON.stringify(problems.slice(0, 3))}`);
  return run.lines.map((l) => JSON.parse(l.text));
}

/** Record ids of a search for `query` in one namespace. */
export async function searchIds(
  base: string,
  t: { store: string; key: string },
  namespace: string,
  query: string,
  topK = 5,
): Promise<string[]> {
  const res = await fetch(`${base}/v1/vector_stores/${t.store}/search`, {
    method: "POST",
    headers: { "X-API-Key": t.key, "Content-Type": "application/json" },
    body: JSON.stringify({ query, namespace, top_k: topK }),
  });
  if (res.status !== 200) throw new Error(`search: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { results: { record_id: string }[] }).results.map((r) => r.record_id);
}

/** A word no other record of a test holds: "kq" + j in letters. */
export function uniqueWord(j: number): string {
  let s = "";
  let n = j;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `kq${s}zx`;
}
