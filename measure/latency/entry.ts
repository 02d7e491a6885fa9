// Entry of the latency build only (`npm run latency`): the dev worker (same
// app, same local stand-ins) whose fetch and whose per-store Durable Object see an env in which
// every remote binding records its calls (recordingEnv), and routes that read and
// reset the records. The Worker and the object run in one isolate here, so they share the records.
import worker from "../../src/index";
import { VectorStoreSync } from "../../src/store/store-object";
import { addRequest, nextSeq, recorded, recordingEnv, resetRecords } from "./recorder";

export { LocalEmbedder, LocalVectorIndex, LocalVectorIndex1, LocalVectorStore } from "../../src/dev-entry";

type Env = ConstructorParameters<typeof VectorStoreSync>[1];

/** The per-store object, its calls recorded as the object's. Bound as STORE_SYNC. */
export class LatencyVectorStoreSync extends VectorStoreSync {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, recordingEnv(env, "object"));
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__latency/calls") return Response.json(recorded());
    if (pathname === "/__latency/reset") {
      resetRecords();
      return Response.json({ ok: true });
    }
    const start = performance.now();
    const startSeq = nextSeq();
    try {
      return await worker.fetch(request, recordingEnv(env, "worker"), ctx);
    } finally {
      addRequest({ method: request.method, path: pathname, start, end: performance.now(), startSeq, endSeq: nextSeq() });
    }
  },
};
