/**
 * Normalises an ISO 8601 timestamp with any offset to UTC with milliseconds
 * ("2026-01-15T10:00:00.000Z"), the one form in which text order equals time order.
 * Inputs are validated first (schemas/common.ts), so the date is always valid here.
 */
export function normalizeTimestamp(iso: string): string {
  return new Date(iso).toISOString();
}
