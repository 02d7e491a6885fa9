// The requests of the memory check (npm run memory:check): the worst shapes at each position of a
// request, each sized to the service's limits, and the status class each must get.
import { deflateSync, gzipSync } from "node:zlib";
import { envelope, MAX_BODY_BYTES, MiB } from "./harness.mjs";

const SEARCH = 256 * 1024; // MAX_JSON_BODY_BYTES: a search's (or an admin request's) body
const ENVELOPE = 1024 * 1024; // MAX_ENVELOPE_BYTES: a sync body without its operations

// --- bodies -----------------------------------------------------------------------------------------
/** `before` + items joined by commas + `after`, as many items as keep the whole under `bytes`. */
function fill(before, item, after, bytes = MAX_BODY_BYTES - 64) {
  const count = Math.max(1, Math.floor((bytes - before.length - after.length) / (item.length + 1)));
  return `${before}${`${item},`.repeat(count - 1)}${item}${after}`;
}
/** `{"k0":v,"k1":v,...}` up to `bytes` (built once per size: the data and metadata scenarios share it). */
const wideObjects = new Map();
function wideObject(value, bytes) {
  const key = `${value} ${bytes}`;
  if (!wideObjects.has(key)) {
    const parts = [];
    let size = 2;
    for (let i = 0; size < bytes; i++) {
      const part = `"k${i}":${value}`;
      parts.push(part);
      size += part.length + 1;
    }
    wideObjects.set(key, `{${parts.join(",")}}`);
  }
  return wideObjects.get(key);
}
/** A sync body whose one upsert has `field` set to the JSON text `inner` (data is a small object unless given). */
function oneUpsert(store, field, inner) {
  const marker = '"data":{"title":"wide"}';
  const text = JSON.stringify(envelope(store, [{ action: "upsert", id: "wide", namespace: "wide", data: { title: "wide" } }]));
  return text.replace(marker, field === "data" ? `"data":${inner}` : `${marker},"${field}":${inner}`);
}
const syncBodyWith = (store, field, item, wrap = ["[", "]"]) => {
  const skeleton = oneUpsert(store, field, "@");
  const [before, after] = skeleton.split("@");
  return fill(before + wrap[0], item, wrap[1] + after);
};

const sync = (body, headers = {}) => ({ path: "/v1/connectors/pipeline/sync", body, headers });
const search = (store, body) => ({ path: `/v1/vector_stores/${store}/search`, body });

/** Each scenario: (store) => request; `expect` is the status class it must get. */
export const SCENARIOS = {
  // The issue's report: 2 million zeros in one record's data (3.8 MB).
  data_array_2m: { expect: 2, request: (s) => sync(oneUpsert(s, "data", `{"a":[${"0,".repeat(1_999_999)}0]}`)) },
  data_wide_array: { expect: 2, request: (s) => sync(syncBodyWith(s, "data", "0", ['{"a":[', "]}"])) },
  data_wide_object: { expect: 2, request: (s) => sync(oneUpsert(s, "data", wideObject("0", MAX_BODY_BYTES - 400))) },
  data_wide_strings: { expect: 2, request: (s) => sync(syncBodyWith(s, "data", '"ab"', ['{"a":[', "]}"])) },
  data_long_string: { expect: 2, request: (s) => sync(oneUpsert(s, "data", `{"a":"${"x".repeat(MAX_BODY_BYTES - 400)}"}`)) },
  data_many_wide_records: {
    // 80 records, each data an array of zeros just under the record limit
    expect: 2,
    request: (s) => {
      const op = (i) => `{"action":"upsert","id":"r${i}","namespace":"wide","data":{"a":[${"0,".repeat(130_000)}0]}}`;
      const ops = Array.from({ length: Math.floor((MAX_BODY_BYTES - 400) / (op(99).length + 1)) }, (_, i) => op(i));
      return sync(JSON.stringify(envelope(s, [])).replace('"operations":[]', `"operations":[${ops.join(",")}]`));
    },
  },
  file_wide_array: { expect: 2, request: (s) => sync(syncBodyWith(s, "file", "0")) },
  file_wide_object_field: { expect: 2, request: (s) => sync(syncBodyWith(s, "file", "0", ['{"file_url":"u","x":[', "]}"])) },
  metadata_wide_array: { expect: 2, request: (s) => sync(syncBodyWith(s, "metadata", '""', ['{"a":[', "]}"])) },
  metadata_wide_object: { expect: 2, request: (s) => sync(oneUpsert(s, "metadata", wideObject("0", MAX_BODY_BYTES - 400))) },
  vector_wide: { expect: 2, request: (s) => sync(syncBodyWith(s, "vector", "0")) },
  vector_wide_strings: { expect: 2, request: (s) => sync(syncBodyWith(s, "vector", '"x"')) },
  text_long: { expect: 2, request: (s) => sync(oneUpsert(s, "text", `"${"word ".repeat((MAX_BODY_BYTES - 400) / 5)}"`)) },
  id_long: { expect: 2, request: (s) => sync(oneUpsert(s, "data", `{"a":1},"id":"${"i".repeat(MAX_BODY_BYTES - 400)}"`)) },
  operations_scalars: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, ["@"])).split('"@"');
      return sync(fill(before, "1", after));
    },
  },
  operations_empty_objects: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, ["@"])).split('"@"');
      return sync(fill(before, "{}", after));
    },
  },
  operations_deletes: {
    // 5000 deletes with the longest ids: the most operations, each as large as allowed
    expect: 2,
    request: (s) =>
      sync(
        JSON.stringify(
          envelope(
            s,
            Array.from({ length: 5000 }, (_, i) => ({ action: "delete", id: `${i}`.padEnd(255, "d"), namespace: "n".repeat(64) })),
          ),
        ),
      ),
  },
  envelope_wide_field: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify({ x: "@", ...envelope(s, []) }).split('"@"');
      return sync(fill(`${before}[`, "0", `]${after}`));
    },
  },
  envelope_namespaces: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, [], { sync_mode: "full_refresh", final: true, namespaces: "@" })).split('"@"');
      return sync(fill(`${before}[`, '""', `]${after}`, ENVELOPE - 64));
    },
  },
  envelope_namespaces_20mib: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, [], { sync_mode: "full_refresh", final: true, namespaces: "@" })).split('"@"');
      return sync(fill(`${before}[`, '""', `]${after}`));
    },
  },
  whole_truncated: {
    // invalid JSON (cut short): the body scanner declines, the body is never parsed whole
    expect: 4,
    request: (s) => {
      const [before] = JSON.stringify(envelope(s, ["@"])).split('"@"');
      return sync(fill(before, "1", ""));
    },
  },
  whole_top_array: { expect: 4, request: () => sync(fill("[", "0", "]")) },
  whole_operations_object: {
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, "@")).split('"@"');
      return sync(fill(`${before}{"a":[`, "0", `]}${after}`));
    },
  },
  deep: {
    // 5000 records at the deepest nesting allowed (64), the rest of the body filled
    expect: 2,
    request: (s) => {
      let data = { leaf: "x" };
      for (let d = 2; d < 64; d++) data = d % 2 ? { n: data } : [data];
      return sync(
        JSON.stringify(
          envelope(
            s,
            Array.from({ length: 5000 }, (_, i) => ({ action: "upsert", id: `d${i}`, namespace: "deep", data: { n: data } })),
          ),
        ),
      );
    },
  },
  too_deep: { expect: 4, request: (s) => sync(oneUpsert(s, "data", `${"[".repeat(100_000)}${"]".repeat(100_000)}`)) },
  tiny_chunks: {
    // ~250 KB of "1,2,3,..." per record: a token a character
    expect: 2,
    request: (s) => {
      const ops = Array.from({ length: 80 }, (_, i) => {
        let csv = "";
        for (let n = 1 + i * 1000; csv.length < 250_000; n++) csv += `${n},`;
        return { action: "upsert", id: `csv_${i}`, namespace: "csv", data: { csv: csv.slice(0, csv.lastIndexOf(",", 250_000)) } };
      });
      return sync(JSON.stringify(envelope(s, ops)));
    },
  },
  largest_records: {
    // records just under the per-record limit, as many as the body holds
    expect: 2,
    request: (s) => {
      const words = Array.from({ length: 5000 }, (_, w) => `word${(w * 7919) % 9973}`).join(" ");
      const body = (i) => `${i} ${words.repeat(Math.ceil(262_000 / words.length))}`.slice(0, 262_000);
      const one = (i) => ({ action: "upsert", id: `p${i}`, namespace: "wiki", data: { body: body(i) } });
      const count = Math.floor((MAX_BODY_BYTES - 400) / (JSON.stringify(one(0)).length + 1));
      return sync(
        JSON.stringify(
          envelope(
            s,
            Array.from({ length: count }, (_, i) => one(i)),
          ),
        ),
      );
    },
  },
  gzip_bomb: {
    // 64 MiB of spaces compressed to about 64 KB: refused at the limit while inflating
    expect: 4,
    request: (s) => {
      const [before, after] = JSON.stringify(envelope(s, [])).split("[]");
      const inflated = Buffer.concat([Buffer.from(before), Buffer.alloc(64 * MiB, 0x20), Buffer.from(`[]${after}`)]);
      return { ...sync(gzipSync(inflated, { level: 1 })), headers: { "Content-Encoding": "gzip" } };
    },
  },
  gzip_wide_array: {
    expect: 2,
    request: (s) => ({
      ...sync(gzipSync(Buffer.from(syncBodyWith(s, "data", "0", ['{"a":[', "]}"])))),
      headers: { "Content-Encoding": "gzip" },
    }),
  },
  deflate_records: {
    expect: 2,
    request: (s) => {
      const ops = Array.from({ length: 2000 }, (_, i) => ({
        action: "upsert",
        id: `z${i}`,
        namespace: "z",
        data: { title: `record ${i}`, body: "zipped ".repeat(200) },
      }));
      return { ...sync(deflateSync(Buffer.from(JSON.stringify(envelope(s, ops))))), headers: { "Content-Encoding": "deflate" } };
    },
  },
  search_filter_wide_array: { expect: 4, request: (s) => search(s, fill('{"query":"q","filter":{"a":{"$in":[', "0", "]}}}", SEARCH)) },
  search_filter_wide_object: { expect: 4, request: (s) => search(s, `{"query":"q","filter":${wideObject("0", SEARCH - 100)}}`) },
  search_namespaces: { expect: 4, request: (s) => search(s, fill('{"query":"q","namespace":[', '""', "]}", SEARCH)) },
  search_vector_wide: { expect: 4, request: (s) => search(s, fill('{"vector":[', '"x"', "]}", SEARCH)) },
  search_query_long: { expect: 4, request: (s) => search(s, `{"query":"${"q".repeat(SEARCH - 100)}"}`) },
  // 4x the search body cap: refused by its declared length, unread. (A 20 MiB upload refused unread
  // is lost locally: workerd closes the connection with the body unread, the TCP reset discards the
  // 413 before the client reads it. The body-bounds test sends one in-process.)
  search_body_over_cap: { expect: 4, request: (s) => search(s, fill('{"query":"q","filter":{"a":{"$in":[', "0", "]}}}", 4 * SEARCH)) },
};
