// The region model of `npm run latency` (docs/measurements.md#latency): turns the remote calls one request made
// locally (recorded by recordingEnv) into round trips and a modelled time, as if the
// Worker ran in Sydney and what it calls sat where the table below puts it. Pure: no I/O, so
// Its test exercises it on synthetic call lists.

/** Round-trip times between locations, ms. Stated, not measured. */
export const RTT_MS = {
  "syd-enam": 200,
  "syd-oc": 10,
  "oc-enam": 200,
};
/** Two places in one region (e.g. an object in enam and its D1 primary in enam). */
export const INTRA_REGION_MS = 2;
/** A round trip longer than this crosses regions. */
export const CROSS_REGION_OVER_MS = 50;

/**
 * Where each party sits. "local" is the machine the caller runs on: no network round trip.
 * A D1 read replica exists in every region (Cloudflare creates one per D1 region); a replica read
 * goes to the nearest of those listed here.
 */
export const PLACES = {
  worker: "syd",
  object: "enam",
  "d1-primary": "enam",
  "d1-replica": ["oc", "enam"],
  kv: "enam",
  "kv-cached": "local",
  ratelimit: "local",
  ai: "enam",
  vectorize: "enam",
};

/**
 * Service times used instead of the local stand-ins' own (which say nothing about production):
 * base + perItem x items (texts embedded, vectors written, ids deleted or read). Assumed.
 */
export const ASSUMED_MS = {
  "ai.run": { base: 20, perItem: 1.3, why: "Workers AI bge-base: 150 ms for 100 texts, about 21 ms for one" },
  "vectorize.query": { base: 30, perItem: 0, why: "one query, topK up to 50" },
  "vectorize.upsert": { base: 10, perItem: 0.09, why: "100 ms for 1000 vectors" },
  "vectorize.insert": { base: 10, perItem: 0.09, why: "as upsert" },
  "vectorize.deleteByIds": { base: 10, perItem: 0.04, why: "50 ms for 1000 ids" },
  "vectorize.getByIds": { base: 15, perItem: 0.25, why: "20 ms for 20 vectors with values and metadata" },
  "vectorize.*": { base: 20, perItem: 0, why: "describe and anything else" },
  "kv-cached.*": { base: 1, perItem: 0, why: "a KV read with cacheTtl served by the local cache (warm)" },
};

/** The request types, with their targets. */
export const TARGETS = {
  small_sync: { ms: 250, crossRegion: 1 },
  first_sync_5000: { ms: 3500 },
  search: { ms: 250 },
  sync_status: { ms: 250 },
  record_read: { ms: 250 },
};

export function rttMs(from, to) {
  if (from === "local" || to === "local") return 0;
  if (from === to) return INTRA_REGION_MS;
  const ms = RTT_MS[`${from}-${to}`] ?? RTT_MS[`${to}-${from}`];
  if (ms === undefined) throw new Error(`no round-trip time between ${from} and ${to} in RTT_MS`);
  return ms;
}

const KNOWN = new Set(["local", ...Object.keys(RTT_MS).flatMap((pair) => pair.split("-"))]);

/** Where `call` is served, seen from a caller at `from`. */
export function placeOf(call, from, places = PLACES) {
  if (call.kind === "object") return call.locationHint && KNOWN.has(call.locationHint) ? call.locationHint : places.object;
  const place = places[call.kind];
  if (place === undefined) throw new Error(`no place for calls of kind ${call.kind}`);
  if (!Array.isArray(place)) return place;
  return place.reduce((best, p) => (rttMs(from, p) < rttMs(from, best) ? p : best));
}

/** The assumed service time of a call, or null when its measured time counts. */
export function assumedMs(call) {
  if (call.kind !== "ai" && call.kind !== "vectorize" && call.kind !== "kv-cached") return null;
  const a = ASSUMED_MS[`${call.kind}.${call.method}`] ?? ASSUMED_MS[`${call.kind}.*`];
  if (!a) throw new Error(`no assumed time for ${call.kind}.${call.method}`);
  return a.base + a.perItem * (call.size ?? 1);
}

const within = (call, span) => call.startSeq > span.startSeq && call.startSeq < span.endSeq;

/** Total length of the union of the calls' intervals. */
export function busyMs(calls) {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let total = 0;
  let reached = -Infinity;
  for (const c of sorted) {
    // Only the part of this call after everything before it had ended adds time.
    if (c.end > reached) total += c.end - Math.max(c.start, reached);
    reached = Math.max(reached, c.end);
  }
  return total;
}

/**
 * Waves: a call is in wave k + 1 when the highest wave among the same caller's calls that had
 * ended before it started is k (wave 1 if none had). Calls started together (Promise.all) share a
 * wave; a call that waited for another is in a later one; a pipeline with n calls in flight makes
 * about one wave per n calls.
 */
export function waveNumbers(calls) {
  const wave = new Map();
  // A call that ended before `c` started also started before it: its wave is known by then. A
  // call marked concurrent (the code awaits it only before answering) gates no other call.
  for (const c of [...calls].sort((a, b) => a.startSeq - b.startSeq)) {
    let w = 1;
    if (!c.concurrent) for (const a of calls) if (!a.concurrent && a.endSeq < c.startSeq) w = Math.max(w, wave.get(a) + 1);
    wave.set(c, w);
  }
  return calls.map((c) => wave.get(c));
}

/**
 * One context (the Worker's handling of a request, or one call into an object): its own calls in
 * waves, each wave as long as its slowest call (round trip + service time), plus the context's
 * measured time outside remote calls (CPU and local awaits).
 */
function modelContext(ctx, pool, places) {
  const mine = pool.filter((c) => c.caller === ctx.caller && within(c, ctx.span));
  // Inside an object, the calls made during a call to another object are that object's.
  const nested = ctx.caller === "object" ? mine.filter((c) => c.kind === "object") : [];
  const direct = mine.filter((c) => !nested.some((o) => o !== c && within(c, o))).sort((a, b) => a.startSeq - b.startSeq);
  const numbers = waveNumbers(direct);
  const steps = direct.map((call, i) => {
    const to = placeOf(call, ctx.location, places);
    const rtt = rttMs(ctx.location, to);
    const cross = rtt > CROSS_REGION_OVER_MS ? 1 : 0;
    if (call.kind === "object") {
      const inner = modelContext({ caller: "object", location: to, span: call }, pool, places);
      return {
        wave: numbers[i],
        call,
        to,
        rtt,
        service: inner.modelled_ms,
        trips: 1 + inner.trips,
        cross: cross + inner.cross,
        inner,
      };
    }
    const assumed = assumedMs(call);
    return {
      wave: numbers[i],
      call,
      to,
      rtt,
      service: assumed ?? call.end - call.start,
      assumed: assumed !== null,
      trips: to === "local" ? 0 : 1,
      cross,
    };
  });
  // Calls marked concurrent run beside the rest (each in wave 1, gating nothing): the context lasts
  // as long as the longer of the two, and its round trips are those of the longer.
  const branches = steps.filter((step) => step.call.concurrent);
  const waves = [];
  for (const step of steps.filter((st) => !st.call.concurrent)) {
    // A call in wave k waited for one in wave k - 1: the numbers have no gaps.
    if (!waves[step.wave - 1]) waves[step.wave - 1] = { steps: [], ms: 0, trips: 0, cross: 0 };
    const w = waves[step.wave - 1];
    w.steps.push(step);
    w.ms = Math.max(w.ms, step.rtt + step.service);
    w.trips = Math.max(w.trips, step.trips);
    w.cross = Math.max(w.cross, step.cross);
  }
  const present = waves.filter(Boolean);
  const local = Math.max(0, ctx.span.end - ctx.span.start - busyMs(direct));
  const main = {
    ms: present.reduce((sum, w) => sum + w.ms, 0) + local,
    trips: present.reduce((sum, w) => sum + w.trips, 0),
    cross: present.reduce((sum, w) => sum + w.cross, 0),
  };
  const branch = branches.reduce(
    (longest, st) => (st.rtt + st.service > longest.ms ? { ms: st.rtt + st.service, trips: st.trips, cross: st.cross } : longest),
    { ms: 0, trips: 0, cross: 0 },
  );
  const longer = branch.ms > main.ms ? branch : main;
  if (branches.length > 0) present.unshift({ steps: branches, ms: branch.ms, trips: branch.trips, cross: branch.cross, concurrent: true });
  return {
    location: ctx.location,
    waves: present,
    local_ms: local,
    modelled_ms: longer.ms,
    trips: longer.trips,
    cross: longer.cross,
  };
}

/**
 * Models one request from what the recorder saw: `requests` (the request's span through the
 * Worker's fetch; the last one counts) and `calls`. Calls begun outside that span (before it, or
 * after the response, e.g. ctx.waitUntil work) are left out and counted as `background`.
 */
export function modelRequest({ requests, calls }, places = PLACES) {
  const span = requests.at(-1);
  if (!span) throw new Error("no request was recorded");
  const model = modelContext({ caller: "worker", location: places.worker, span }, calls, places);
  const background = calls.filter((c) => c.startSeq < span.startSeq || c.startSeq > span.endSeq).length;
  return {
    sequential_remote_round_trips: model.trips,
    cross_region_round_trips: model.cross,
    modelled_ms: Math.round(model.modelled_ms),
    measured_ms: span.end - span.start,
    background,
    hints: [...new Set(calls.filter((c) => c.kind === "object").map((c) => c.locationHint ?? "none"))],
    tree: model,
  };
}

const fmt = (ms) => (ms >= 10 ? String(Math.round(ms)) : ms.toFixed(1));

/** The call graph of a modelled request, one line per call, waves numbered, objects indented. */
export function describe(model, indent = "  ") {
  const lines = [];
  for (const [i, wave] of model.waves.entries()) {
    for (const [j, s] of wave.steps.entries()) {
      const c = s.call;
      const label = `${c.kind} ${c.target}.${c.method}${c.size !== undefined ? `(${c.size})` : ""}${c.session ? ` [session ${c.session}]` : ""}`;
      const route = s.to === "local" ? "local" : `${model.location}->${s.to}`;
      const service = s.inner ? `${fmt(s.service)} inside` : `${fmt(s.service)}${s.assumed ? " assumed" : ""}`;
      lines.push(
        `${indent}${j === 0 ? (wave.concurrent ? " ~" : String(i + (model.waves[0]?.concurrent ? 0 : 1)).padStart(2)) : "  "}${j === 0 ? "." : "|"} ${label.padEnd(52)} ${route.padEnd(10)} ${fmt(s.rtt)} + ${service} ms${wave.concurrent ? " (concurrent: awaited before the answer)" : ""}`,
      );
      if (s.inner) lines.push(...describe(s.inner, `${indent}      `));
    }
  }
  lines.push(`${indent}    local (CPU and local waits, measured): ${fmt(model.local_ms)} ms`);
  return lines;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
