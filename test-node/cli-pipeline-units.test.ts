// The pure parts of the Airbyte destination and Singer target (cli/pipeline): exact member texts,
// record ids that cannot collide, stream-to-namespace rules, checkpoints released in order.
import { describe, expect, it } from "vitest";
import { Checkpoints } from "../cli/pipeline/checkpoints";
import { memberSpans, memberText, withMember } from "../cli/pipeline/json-spans";
import { NamespaceMap } from "../cli/pipeline/namespaces";
import { contentId, keyId } from "../cli/pipeline/record-id";
import { recordOperation } from "../cli/pipeline/record-op";

describe("member texts", () => {
  it("finds each member's exact text, past strings holding quotes, braces and commas", () => {
    const text = ` { "a" : "x\\"}],{" , "b":{"c":[1,{"d":"}"}]} ,"n": 18446744073709551615 ,"e\\u0041":true,"z":null}`;
    expect(memberText(text, "a")).toBe(`"x\\"}],{"`);
    expect(memberText(text, "b")).toBe(`{"c":[1,{"d":"}"}]}`);
    expect(memberText(text, "n")).toBe("18446744073709551615");
    expect(memberText(text, "eA")).toBe("true");
    expect(memberText(text, "z")).toBe("null");
    expect(memberText(text, "missing")).toBeNull();
    expect([...memberSpans(text).keys()]).toEqual(["a", "b", "n", "eA", "z"]);
    expect(memberSpans("{}").size).toBe(0);
  });

  it("sets a member without printing the others again (a 20-digit number keeps its digits)", () => {
    const state = `{"type":"STREAM","stream_state":{"lsn":18446744073709551615},"destinationStats":{"recordCount":1}}`;
    const out = withMember(state, "destinationStats", `{"recordCount":7}`);
    expect(out).toBe(`{"type":"STREAM","stream_state":{"lsn":18446744073709551615},"destinationStats":{"recordCount":7}}`);
    expect(withMember(`{"a":1}`, "b", "2")).toBe(`{"a":1,"b":2}`);
  });

  it("scans deep nesting without recursion", () => {
    const deep = `{"x":${"[".repeat(100_000)}${"]".repeat(100_000)},"y":1}`;
    expect(memberText(deep, "y")).toBe("1");
  });
});

describe("record ids", () => {
  it("one key: its value; an integer in decimal", () => {
    expect(keyId({ id: "abc" }, [["id"]])).toEqual({ id: "abc" });
    expect(keyId({ id: 42 }, [["id"]])).toEqual({ id: "42" });
    expect(keyId({ a: { b: 7 } }, [["a", "b"]])).toEqual({ id: "7" });
  });

  it("composite keys never collide: separators inside values, strings against integers", () => {
    const ids = [
      keyId({ a: "x-y", b: "z" }, [["a"], ["b"]]),
      keyId({ a: "x", b: "y-z" }, [["a"], ["b"]]),
      keyId({ a: "1", b: 2 }, [["a"], ["b"]]),
      keyId({ a: 1, b: 2 }, [["a"], ["b"]]),
      keyId({ a: 'x","y', b: "z" }, [["a"], ["b"]]),
      keyId({ a: "x", b: 'y","z' }, [["a"], ["b"]]),
    ].map((r) => ("id" in r ? r.id : r.error));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[3]).toBe("[1,2]");
  });

  it("reads own properties only, and refuses what cannot be an id", () => {
    const inherited = Object.create({ id: "from-prototype" });
    expect(keyId(inherited, [["id"]])).toMatchObject({ error: expect.stringContaining("missing") });
    expect(keyId({ constructor: 5 }, [["constructor"]])).toEqual({ id: "5" });
    expect(keyId({}, [["constructor"]])).toMatchObject({ error: expect.stringContaining("missing") });
    expect(keyId({ id: null }, [["id"]])).toMatchObject({ error: expect.stringContaining("null") });
    expect(keyId({ id: 1.5 }, [["id"]])).toMatchObject({ error: expect.stringContaining("integer") });
    expect(keyId({ id: 2 ** 60 }, [["id"]])).toMatchObject({ error: expect.stringContaining("integer") });
    expect(keyId({ id: "" }, [["id"]])).toMatchObject({ error: expect.stringContaining("empty") });
    expect(keyId({ id: "x".repeat(256) }, [["id"]])).toMatchObject({ error: expect.stringContaining("255") });
  });

  it("a record without a key is its content's hash; a delete without a key is skipped", () => {
    expect(contentId(`{"a":1}`)).toBe(contentId(`{"a":1}`));
    expect(contentId(`{"a":1}`)).not.toBe(contentId(`{"a":2}`));
    const target = { namespace: "ev", keyPaths: [], deleteField: "_ab_cdc_deleted_at" };
    const up = recordOperation(1, target, { a: 1 }, `{"a":1}`);
    expect(up).toMatchObject({ op: { action: "upsert", id: contentId(`{"a":1}`), json: expect.stringContaining(`"data":{"a":1}`) } });
    expect(recordOperation(2, target, { a: 1, _ab_cdc_deleted_at: "2026" }, "{}")).toHaveProperty("skip");
  });

  it("a CDC delete field that is present and not null deletes; null or absent upserts", () => {
    const target = { namespace: "u", keyPaths: [["id"]], deleteField: "_ab_cdc_deleted_at" };
    expect(recordOperation(1, target, { id: 1, _ab_cdc_deleted_at: "2026-01-01" }, "{}")).toMatchObject({
      op: { action: "delete", json: `{"action":"delete","id":"1","namespace":"u"}` },
    });
    expect(recordOperation(1, target, { id: 1, _ab_cdc_deleted_at: null, x: 1 }, `{"id":1,"x":1}`)).toMatchObject({
      op: { action: "upsert" },
    });
    expect(recordOperation(1, target, {}, "{}")).toHaveProperty("error");
  });
});

describe("stream namespaces", () => {
  it("prefix + source namespace + name, invalid characters as '_'; explicit entries win", () => {
    const map = new NamespaceMap("ab_", [{ stream: "users", stream_namespace: "public", namespace: "crm" }]);
    expect(map.resolve({ name: "users", namespace: "public" })).toEqual({ namespace: "crm" });
    expect(map.resolve({ name: "users" })).toEqual({ namespace: "ab_users" });
    expect(map.resolve({ name: "Sheet 1", namespace: "drive/x" })).toEqual({ namespace: "ab_drive_x.Sheet_1" });
    expect(map.resolve({ name: "x".repeat(70) })).toMatchObject({ error: expect.stringContaining("stream_namespaces") });
    expect(new NamespaceMap("", []).resolve({ name: ".." })).toHaveProperty("error");
  });

  it("two streams on one namespace are refused", () => {
    const map = new NamespaceMap("", []);
    expect(map.claim({ name: "a b" })).toEqual({ namespace: "a_b" });
    expect(map.claim({ name: "a_b" })).toMatchObject({ error: expect.stringContaining("both map to the namespace 'a_b'") });
  });
});

describe("checkpoints", () => {
  it("are released in arrival order once their watermark is committed", () => {
    const c = new Checkpoints<string>();
    c.add(10, "s1", 2);
    c.add(10, "s2", 2);
    c.add(25, "s3", 2);
    expect(c.release(9)).toEqual([]);
    expect(c.release(24)).toEqual(["s1", "s2"]);
    expect(c.release(100)).toEqual(["s3"]);
    expect(c.size).toBe(0);
  });

  it("are due once the oldest has waited the interval", () => {
    const c = new Checkpoints<string>();
    expect(c.due(1000)).toBe(false);
    c.add(1, "s", 1);
    expect(c.due(1000, Date.now())).toBe(false);
    expect(c.due(1000, Date.now() + 1000)).toBe(true);
  });
});
