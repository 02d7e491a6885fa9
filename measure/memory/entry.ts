// Entry of the memory measurement and check only: the dev worker (same app, same local stand-ins as `npm run dev`)
// plus two routes for the memory script: one wakes every isolate the app uses (workerd runs an
// inspector-requested GC only once the isolate runs again), one holds a known amount of heap so
// the script can check its own measurement.
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { VectorStoreSync } from "../../src/store/store-object";

export { LocalEmbedder, LocalVectorIndex, LocalVectorStore } from "../../src/dev-entry";

/** The per-store object, with one more method: a no-op call that wakes its isolate. */
export class MemoryVectorStoreSync extends VectorStoreSync {
  wake(): boolean {
    return true;
  }
}

/**
 * GET /__memory/allocate?mb=N&hold_ms=M | &spin=K: allocates N MiB of heap (N flat one-byte
 * strings of 1 MiB, decoded from bytes that live outside the heap) and keeps them, either for M ms
 * on a timer (the isolate idle, as in a sync's awaits) or for K million loop turns without
 * yielding (a long synchronous stretch: shows whether samples still arrive while JS runs; the
 * clock stands still in workerd then, so the spin counts turns), then drops them.
 */
function allocate(url: URL): Promise<Response> | Response {
  const mb = Number(url.searchParams.get("mb") ?? 16);
  const holdMs = Number(url.searchParams.get("hold_ms") ?? 300);
  const held: string[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < mb; i++) held.push(decoder.decode(new Uint8Array(2 ** 20).fill(97 + (i % 26))));
  const done = (extra = {}) => Response.json({ strings: held.length, bytes: held.reduce((sum, s) => sum + s.length, 0), ...extra });
  const spin = Number(url.searchParams.get("spin") ?? 0);
  if (spin > 0) {
    let x = 0;
    for (let i = 0; i < spin * 1e6; i++) x = (x + i) | 0;
    return done({ spin: x });
  }
  return new Promise((resolve) => setTimeout(() => resolve(done()), holdMs));
}

/** GET /__memory/wake: runs a little code in the worker, its Durable Object and the stand-ins. */
async function wake(env: Bindings): Promise<Response> {
  await env.AI.run(env.EMBEDDING_MODEL, { text: ["wake"] });
  const stub = env.STORE_SYNC.get(env.STORE_SYNC.idFromName("__memory_wake")) as unknown as { wake(): Promise<boolean> };
  return Response.json({ ok: await stub.wake() });
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname === "/__memory/allocate") return allocate(url);
    if (url.pathname === "/__memory/wake") return wake(env);
    return worker.fetch(request, env, ctx);
  },
};
