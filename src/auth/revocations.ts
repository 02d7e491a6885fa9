// API keys this isolate has seen revoked. Revocations are never undone, so a key found revoked
// once (by the store's object on a sync, or by D1 on a read) is refused from memory from then on,
// before the rate limiter and any remote call. Bounded: past MAX_REMEMBERED the oldest are
// forgotten (and checked remotely again).

export const MAX_REMEMBERED = 10_000;

const revoked = new Set<string>();

export function rememberRevoked(keyId: string): void {
  if (revoked.has(keyId)) return;
  if (revoked.size >= MAX_REMEMBERED) revoked.delete(revoked.values().next().value!);
  revoked.add(keyId);
}

export function knownRevoked(keyId: string): boolean {
  return revoked.has(keyId);
}
