// The requests of the memory measurement (npm run memory): the worst sync requests the service's
// limits allow, each built deterministically as a list of operations.
import { rng, upserts } from "../records.mjs";
import { envelope, MAX_BODY_BYTES } from "./harness.mjs";

const MAX_RECORD_BYTES = 256 * 1024; // the sync schema's cap: UTF-8 bytes of data (+ file, metadata, text)

// --- scenarios: each builds its operations (deterministic) ---------------------------------------
const PROSE = (
  "the a of to and in that is for on with as it by this be are from at or an was which we our " +
  "customer team release report invoice meeting project design review deploy server request record system " +
  "data update change issue plan migration schedule budget contract support ticket account policy quarter " +
  "should would could will must may often always never quickly carefully again later before after during"
).split(" ");
function prose(r, length) {
  let s = "";
  while (s.length < length) {
    const words = Array.from({ length: 6 + Math.floor(r() * 14) }, () => PROSE[Math.floor(r() * PROSE.length)]);
    s += words[0][0].toUpperCase() + words.join(" ").slice(1) + (r() < 0.2 ? ", and then " : ". ");
  }
  return s.slice(0, length);
}
const envelopeBytes = JSON.stringify(envelope("vs_memory_00", [])).length;
const BODY_BUDGET = MAX_BODY_BYTES - envelopeBytes - 4096; // room for the longer store id and rounding
const op = (id, namespace, data) => ({ action: "upsert", id, namespace, data });

export const SCENARIOS = {
  calibration: null, // not a sync: the worker holds 32 MiB across an await (the /__memory/allocate route)
  bench_like: () => upserts(5000, { seed: 42 }),
  largest_body: () => {
    // 5000 prose records (the operation limit), each as large as the body budget allows
    const r = rng(2);
    const each = Math.floor(BODY_BUDGET / 5000) - 1;
    return Array.from({ length: 5000 }, (_, i) => {
      const skeleton = op(`doc_${i}`, "docs", { title: `Document ${i}`, body: "" });
      skeleton.data.body = prose(r, each - JSON.stringify(skeleton).length);
      return skeleton;
    });
  },
  largest_records: () => {
    // records just under the per-record limit, as many as fit in the body
    const r = rng(3);
    const dataBytes = MAX_RECORD_BYTES - 64;
    const one = (i) =>
      op(`page_${i}`, "wiki", { title: `Page ${i}`, body: prose(r, dataBytes - JSON.stringify({ title: `Page ${i}`, body: "" }).length) });
    const count = Math.floor(BODY_BUDGET / (JSON.stringify(one(0)).length + 1));
    return Array.from({ length: count }, (_, i) => one(i));
  },
  amplification: () => {
    // a 1000-character key over 50,000 zeros: once made huge derived text
    const r = rng(4);
    return Array.from({ length: 200 }, (_, i) => {
      const key = `${i}_${prose(r, 1200).replace(/[^a-z]+/gi, "_")}`.slice(0, 1000);
      return op(`grid_${i}`, "sheets", { [key]: new Array(50_000).fill(0) });
    });
  },
  tiny_chunks: () =>
    Array.from({ length: 80 }, (_, i) => {
      // ~250 KB of "1,2,3,...": a token a character
      let csv = "";
      for (let n = 1 + i * 1000; csv.length < 250_000; n++) csv += `${n},`;
      return op(`csv_${i}`, "exports", { csv: csv.slice(0, csv.lastIndexOf(",", 250_000)) });
    }),
  deep: () => {
    // 5000 records whose data nests 60 objects deep (the limit is 64)
    const r = rng(6);
    return Array.from({ length: 5000 }, (_, i) => {
      let data = { level: 60, note: prose(r, 24) };
      for (let level = 59; level >= 1; level--) data = { level, note: prose(r, 24), child: data };
      return op(`deep_${i}`, "trees", data);
    });
  },
};
