// The local stand-ins as a worker of their own, for the test pool only (vitest.config.ts builds it
// and binds AI and VECTORIZE to it). `npm run dev` binds the same classes from src/dev-entry.ts.
//
// Why not bind them to the worker under test as in dev: @cloudflare/vitest-pool-workers 0.15.1
// serves the test worker's named entrypoints through a wrapper class whose constructor wraps the
// class prototype in one more Proxy on every instantiation (createProxyPrototypeClass in its
// test-internal.mjs; still so in 0.23.0), and workerd makes an instance per RPC call. Property
// lookups then walk one more Proxy per earlier call: measured, a trivial `stats()` call took
// 26 ms on average over the first 300 calls and 373 ms over calls 900-1200.
export { LocalEmbedder } from "../../src/local/local-embedder";
export { LocalVectorIndex, LocalVectorIndex1, LocalVectorStore } from "../../src/local/local-vector-index";

export default {
  fetch: () => new Response("local stand-ins for Workers AI and Vectorize (tests only)", { status: 404 }),
};
