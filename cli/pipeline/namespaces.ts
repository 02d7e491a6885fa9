/**
 * Which service namespace a pipeline stream writes to.
 *
 * An explicit entry of the config's `stream_namespaces` wins. Otherwise the name is
 * `namespace_prefix` + (the source's namespace + "." when it has one) + the stream's name, with
 * every character a namespace cannot hold (anything but letters, digits, '_', '-', '.') replaced
 * by '_'. A name that is still not a namespace (longer than 64 characters, or "." / "..") is
 * refused with the entry to add. Two streams that would share a namespace are refused too
 * (NamespaceMap.claim): their records would overwrite and sweep each other.
 */
import { NAMESPACE_PATTERN } from "../../src/schemas/common";

export interface StreamRef {
  name: string;
  namespace?: string | null;
}

export interface NamespaceRule {
  stream: string;
  stream_namespace?: string | undefined;
  namespace: string;
}

export const streamLabel = (s: StreamRef) => (s.namespace ? `${s.namespace}.${s.name}` : s.name);

const ruleKey = (name: string, namespace: string | null | undefined) => JSON.stringify([namespace ?? null, name]);

export class NamespaceMap {
  private readonly rules = new Map<string, string>();
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    rules: readonly NamespaceRule[],
  ) {
    for (const r of rules) this.rules.set(ruleKey(r.stream, r.stream_namespace), r.namespace);
  }

  /** The stream's namespace, or why it has none. */
  resolve(stream: StreamRef): { namespace: string } | { error: string } {
    const explicit = this.rules.get(ruleKey(stream.name, stream.namespace));
    if (explicit !== undefined) return { namespace: explicit };
    const raw = `${this.prefix}${stream.namespace ? `${stream.namespace}.` : ""}${stream.name}`;
    const namespace = raw.replace(/[^A-Za-z0-9_.-]/g, "_");
    if (NAMESPACE_PATTERN.test(namespace)) return { namespace };
    return {
      error:
        `stream '${streamLabel(stream)}' makes the namespace '${namespace.slice(0, 80)}', which is not a namespace ` +
        "(1-64 letters, digits, '_', '-' or '.', not '.' or '..'): add an entry " +
        `{"stream": ${JSON.stringify(stream.name)}${stream.namespace ? `, "stream_namespace": ${JSON.stringify(stream.namespace)}` : ""}, "namespace": "..."} to stream_namespaces`,
    };
  }

  /** resolve(), and refuse a namespace another stream already writes to. */
  claim(stream: StreamRef): { namespace: string } | { error: string } {
    const r = this.resolve(stream);
    if ("error" in r) return r;
    const label = streamLabel(stream);
    const owner = this.owners.get(r.namespace);
    if (owner !== undefined && owner !== label) {
      return {
        error: `streams '${owner}' and '${label}' both map to the namespace '${r.namespace}': give one of them its own entry in stream_namespaces`,
      };
    }
    this.owners.set(r.namespace, label);
    return r;
  }
}
