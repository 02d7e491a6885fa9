/**
 * Timestamps are compared as text in the ledger (versions, synced_at, refresh watermarks), so
 * every instant is stored in one fixed-width form: UTC with nine fractional digits,
 * "2026-01-15T10:00:00.000000000Z". Text order is then time order, to the nanosecond a source
 * may send (Postgres and Airbyte emit microseconds; a cut to milliseconds let an older
 * update overwrite a newer one within the same millisecond).
 */

/** What the request schema accepts (z.iso.datetime with an offset), taken apart. */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Sources send at most nanoseconds; more digits would only look precise. */
export const MAX_FRACTION_DIGITS = 9;

/**
 * The normalised form of an ISO 8601 date-time with a time zone, or null when it is not one,
 * has more than nine fractional digits, or falls outside the years 0000-9999 UTC (an instant
 * like 9999-12-31T23:00:00-02:00 is year 10000 in UTC, which would sort before every 4-digit
 * year as text). 0000-01-01 with a positive offset and 9999-12-31 with a negative one are
 * refused whatever the time of day.
 */
export function tryNormalizeTimestamp(iso: string): string | null {
  const match = ISO.exec(iso);
  if (!match) return null;
  const [, dateTime, fraction = "", zone] = match as unknown as [string, string, string | undefined, string];
  if (fraction.length > MAX_FRACTION_DIGITS) return null;
  const offset = zone.toUpperCase() === "Z" ? "Z" : zone.length === 3 ? `${zone}:00` : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  // The range's first and last day written with an offset that leads out of it: refused as a
  // whole day, not by the minute, so that a JSON Schema pattern (TIMESTAMP_PATTERN) says exactly
  // the same (a pattern cannot add an offset to a time of day).
  const zero = offset === "+00:00" || offset === "-00:00";
  if (!zero && dateTime.startsWith("0000-01-01") && offset.startsWith("+")) return null;
  if (!zero && dateTime.startsWith("9999-12-31") && offset.startsWith("-")) return null;
  const seconds = Date.parse(`${dateTime.length === 16 ? `${dateTime}:00` : dateTime}${offset}`);
  if (!Number.isFinite(seconds)) return null;
  const utc = new Date(seconds).toISOString();
  if (!/^\d{4}-/.test(utc)) return null; // "+010000-..." or "-000001-...": outside 0000-9999
  return `${utc.slice(0, 19)}.${fraction.padEnd(MAX_FRACTION_DIGITS, "0")}Z`;
}

/** The normalised form of a timestamp the request schema already accepted (see Timestamp). */
export function normalizeTimestamp(iso: string): string {
  const normalized = tryNormalizeTimestamp(iso);
  if (normalized === null) throw new Error(`not a valid timestamp: ${iso.slice(0, 64)}`);
  return normalized;
}

/** A stored timestamp as the API shows it: milliseconds unless the source sent finer digits. */
export function displayTimestamp(stored: string): string;
export function displayTimestamp(stored: string | null): string | null;
export function displayTimestamp(stored: string | null): string | null {
  if (stored === null || stored.length !== 30 || !stored.endsWith("000000Z")) return stored;
  return `${stored.slice(0, 23)}Z`;
}
