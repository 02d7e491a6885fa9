import type { ChildProcess } from "node:child_process";

export const root: string;
export function sleep(ms: number): Promise<void>;
export function freePort(): Promise<number>;
export function devVar(name: string): string;

export interface KeptChild {
  child: ChildProcess;
  exited: Promise<number | null>;
  ownGroup: boolean;
  output: () => string;
}
export function spawnKept(
  command: string,
  args: string[],
  options?: { ownGroup?: boolean; keepLines?: number; env?: NodeJS.ProcessEnv },
): KeptChild;
export function stopChild(proc: KeptChild, options?: { graceMs?: number }): Promise<void>;
export function waitFor(url: string, proc: KeptChild, options?: { what?: string; limitMs?: number }): Promise<void>;

export interface DevServer extends KeptChild {
  port: number;
  base: string;
}
export interface DevServerOptions {
  /** Its own local state directory (`--persist-to`), instead of the shared .wrangler/state. */
  persistTo?: string;
  /** The inspector's port (`--inspector-port`); a free one when not given. */
  inspectorPort?: number;
  /** The server's port; a free one when not given. */
  port?: number;
  /** Its own process group, ended whole when it stops. */
  ownGroup?: boolean;
  /** How many of its last output lines `output()` keeps (default 200). */
  keepLines?: number;
  /** How long it may take to answer /health (default 90 s). */
  limitMs?: number;
}
export function startDevServer(options?: DevServerOptions): Promise<DevServer>;
export function stopDevServer(server: DevServer, options?: { graceMs?: number }): Promise<void>;
