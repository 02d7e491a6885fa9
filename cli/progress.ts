/**
 * Progress on stderr: a cli-progress bar on a terminal (input read, records sent, parts,
 * records/s, ETA when the input's size is known); plain lines otherwise (one per answered part,
 * one per retry, and one every 10 s while nothing else is said).
 */
import cliProgress from "cli-progress";

export interface ProgressStats {
  bytesRead: number;
  records: number;
  parts: number;
}

export interface Progress {
  update(stats: ProgressStats): void;
  /** A line worth printing (a part answered, a retry); on a terminal it goes above the bar. */
  log(line: string): void;
  stop(): void;
}

const rate = (records: number, since: number) => Math.round(records / Math.max(0.001, (Date.now() - since) / 1000));
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export function createProgress(options: { tty: boolean; quiet: boolean; totalBytes: number | null }): Progress {
  const started = Date.now();
  if (options.quiet) return { update() {}, log() {}, stop() {} };

  if (options.tty) {
    const total = options.totalBytes;
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          total !== null
            ? "{bar} {percentage}% | {records} records | {parts} parts | {rate} records/s | ETA {eta_formatted}"
            : "{read} read | {records} records | {parts} parts | {rate} records/s",
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 1, 0, { records: 0, parts: 0, rate: 0, read: mib(0) });
    return {
      update(s) {
        bar.update(total !== null ? Math.min(s.bytesRead, total) : 0, {
          records: s.records.toLocaleString("en-US"),
          parts: s.parts,
          rate: rate(s.records, started),
          read: mib(s.bytesRead),
        });
      },
      log(line) {
        // Above the bar: clear its line, print, and let the next update redraw it.
        process.stderr.write(`\r\x1b[2K${line}\n`);
        bar.render();
      },
      stop() {
        bar.stop();
      },
    };
  }

  let lastLine = Date.now();
  let last: ProgressStats = { bytesRead: 0, records: 0, parts: 0 };
  const say = (line: string) => {
    process.stderr.write(`${line}\n`);
    lastLine = Date.now();
  };
  const status = (s: ProgressStats) => {
    const pct = options.totalBytes ? ` (${Math.min(100, Math.floor((100 * s.bytesRead) / options.totalBytes))}% of the input)` : "";
    return `${s.records.toLocaleString("en-US")} records sent in ${s.parts} parts, ${rate(s.records, started)} records/s${pct}`;
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
