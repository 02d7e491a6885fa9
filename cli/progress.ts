/**
 * Progress on stderr: on a terminal, one status line kept at the bottom (input read, records
 * sent, parts, records/s, and an ETA once there is a rate to go by), with the lines worth keeping
 * (a part answered, a retry) printed above it; plain lines otherwise (one per answered part, one
 * per retry, and one every 10 s while nothing else is said).
 *
 * The status line is drawn with a carriage return and "erase line" only, and never wider than
 * the terminal (so it never wraps): nothing saves or restores the cursor, so whatever is printed
 * after stop() (the summary) starts on the row the status line left empty, below every part's
 * line. (cli-progress restored the cursor it saved at start, above those lines: the summary
 * overwrote them and its last frame stayed at the bottom.)
 */
import { count } from "./report";
import { printable } from "./terminal-text";

export interface ProgressStats {
  bytesRead: number;
  records: number;
  parts: number;
}

export interface Progress {
  update(stats: ProgressStats): void;
  /** A line worth printing (a part answered, a retry); on a terminal it goes above the status line. */
  log(line: string): void;
  stop(): void;
}

/** What the status line shows, as text (pure: the terminal tests and the renderer share it). */
export interface StatusInput extends ProgressStats {
  totalBytes: number | null;
  elapsedMs: number;
}

const BAR_WIDTH = 24;
/** The status line is redrawn at most this often (a part's answer redraws it at once). */
const REDRAW_MS = 200;
/** No ETA before this much time and input: the first rates say little. */
const ETA_AFTER_MS = 2000;

const rate = (records: number, ms: number) => Math.round(records / Math.max(0.001, ms / 1000));
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** "42s", "3m 05s", "2h 07m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function statusLine(s: StatusInput): string {
  const counts = `${count(s.records, "record")} | ${count(s.parts, "part")} | ${rate(s.records, s.elapsedMs).toLocaleString("en-US")} records/s`;
  if (s.totalBytes === null) return `${mib(s.bytesRead)} read | ${counts}`;
  const done = s.totalBytes > 0 ? Math.min(1, s.bytesRead / s.totalBytes) : 1;
  const filled = Math.round(done * BAR_WIDTH);
  const bar = "\u2588".repeat(filled) + "\u2591".repeat(BAR_WIDTH - filled);
  const eta = done >= 1 ? "0s" : s.elapsedMs >= ETA_AFTER_MS && s.bytesRead > 0 ? duration((s.elapsedMs * (1 - done)) / done) : "--";
  return `${bar} ${Math.floor(done * 100)}% | ${counts} | ETA ${eta}`;
}

export function createProgress(options: { tty: boolean; quiet: boolean; totalBytes: number | null }): Progress {
  const started = Date.now();
  if (options.quiet) return { update() {}, log() {}, stop() {} };
  const out = process.stderr;

  if (options.tty) {
    let last: ProgressStats = { bytesRead: 0, records: 0, parts: 0 };
    let drawnAt = 0;
    let stopped = false;
    const draw = () => {
      if (stopped) return;
      drawnAt = Date.now();
      const width = Math.max(20, (out.columns || 80) - 1);
      const line = statusLine({ ...last, totalBytes: options.totalBytes, elapsedMs: drawnAt - started });
      out.write(`\r\x1b[2K${[...line].slice(0, width).join("")}`);
    };
    // Redrawn while nothing else happens, so records/s and the ETA move during a long part.
    const timer = setInterval(draw, 1000);
    timer.unref();
    draw();
    return {
      update(s) {
        last = s;
        if (Date.now() - drawnAt >= REDRAW_MS) draw();
      },
      log(line) {
        out.write(`\r\x1b[2K${printable(line)}\n`);
        draw();
      },
      stop() {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        out.write("\r\x1b[2K");
      },
    };
  }

  let lastLine = Date.now();
  let last: ProgressStats = { bytesRead: 0, records: 0, parts: 0 };
  const say = (line: string) => {
    out.write(`${printable(line)}\n`);
    lastLine = Date.now();
  };
  const status = (s: ProgressStats) => {
    const pct = options.totalBytes ? ` (${Math.min(100, Math.floor((100 * s.bytesRead) / options.totalBytes))}% of the input)` : "";
    return `${count(s.records, "record")} sent in ${count(s.parts, "part")}, ${rate(s.records, Date.now() - started).toLocaleString("en-US")} records/s${pct}`;
  };
  const timer = setInterval(() => {
    if (Date.now() - lastLine >= 10_000) say(`... ${status(last)}`);
  }, 1000);
  timer.unref();
  return {
    update(s) {
      last = s;
    },
    log(line) {
      say(line);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
