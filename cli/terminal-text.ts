/**
 * Client text on the operator's terminal. Record ids, namespaces, input lines and the server's
 * messages (which may quote them) come from a data file: printed raw, an ESC sequence in an id
 * could retitle, clear or rewrite the terminal. Every control character (C0, DEL, C1) is shown
 * as `\xNN` instead, so ESC sequences print as inert text.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, "0");

/** `text` with every control character written as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${hex(c)}`);
}

/**
 * JSON for stdout: JSON.stringify already escapes C0 (as \u00NN); DEL and C1 are left raw by it,
 * and are escaped the same way here (they can only occur inside strings, where \u00NN is valid).
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u00${hex(c)}`);
}

/** Several lines of text, each made printable (the line breaks kept). */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}
