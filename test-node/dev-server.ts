// A real `npm run dev` (scripts/dev.mjs) for the Node tests: free ports, wait for GET /health,
// stop with SIGTERM (SIGKILL if it lingers). Without `persistTo` it uses the local state under
// .wrangler/state, which every other dev server shares.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
const START_LIMIT_MS = 90_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

export interface DevServerOptions {
  /** Its own local state directory (`--persist-to`), instead of the shared .wrangler/state. */
  persistTo?: string;
  /** The inspector's port (`--inspector-port`); a free one when not given. */
  inspectorPort?: number;
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const port = await freePort();
  const inspector = options.inspectorPort ?? (await freePort());
  const args = ["scripts/dev.mjs", "--port", String(port), "--inspector-port", String(inspector)];
  if (options.persistTo !== undefined) args.push("--persist-to", options.persistTo);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split("\n"));
    lines.splice(0, Math.max(0, lines.length - 200));
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const server = { child, base: `http://127.0.0.1:${port}`, output: () => lines.join("\n"), exited };
  const deadline = Date.now() + START_LIMIT_MS;
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return server;
    } catch {
      /* not up yet */
    }
    await sleep(250);
  }
  await stopDevServer(server);
  throw new Error(`npm run dev did not answer /health on ${server.base} (${gone ? "it exited" : "timed out"}):\n${server.output()}`);
}

/** `node scripts/dev.mjs --port <free> --inspector-port <free>`; resolves once /health answers. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  try {
    return await startOnce(options);
  } catch (err) {
    // Another dev server seeding the shared local D1 at the same moment can make start-up fail once.
    console.warn(`retrying npm run dev once: ${String(err).slice(0, 500)}`);
    return await startOnce(options);
  }
}

/** SIGTERM to scripts/dev.mjs, which stops wrangler's whole process group before it exits. */
export async function stopDevServer(server: DevServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGTERM");
  const stopped = await Promise.race([server.exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!stopped) {
    server.child.kill("SIGKILL"); // dev.mjs's exit handler still SIGKILLs wrangler's group
    await server.exited;
  }
}
