/**
 * What the destination writes to stdout: Airbyte Protocol messages, one JSON object a line, and
 * nothing else (progress is LOG messages; a plain line would break the platform's reader).
 */
export type LogLevel = "FATAL" | "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE";
export type FailureType = "system_error" | "config_error" | "transient_error";

export interface Output {
  line(text: string): void;
}

export const stdoutOutput: Output = {
  line: (text) => {
    process.stdout.write(`${text}\n`);
  },
};

export function emit(out: Output, message: unknown) {
  out.line(JSON.stringify(message));
}

export function log(out: Output, level: LogLevel, message: string) {
  emit(out, { type: "LOG", log: { level, message } });
}

export function traceError(out: Output, message: string, failureType: FailureType, internal?: string) {
  emit(out, {
    type: "TRACE",
    trace: {
      type: "ERROR",
      emitted_at: Date.now(),
      error: { message, failure_type: failureType, ...(internal ? { internal_message: internal } : {}) },
    },
  });
}

export function connectionStatus(out: Output, ok: boolean, message: string) {
  emit(out, { type: "CONNECTION_STATUS", connectionStatus: { status: ok ? "SUCCEEDED" : "FAILED", message } });
}
