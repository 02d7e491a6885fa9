// Sets workerd's Config.v8Flags (workerd.capnp: `v8Flags @2 :List(Text)`) in the binary Cap'n Proto
// config Miniflare writes to workerd's stdin. Miniflare 4 has no option for it, so its exported
// Runtime class is patched: updateConfig(configBuffer, ...) gets the buffer with the flags added.
// withV8Flags() appends a List(Text) at the end of segment 0 and points the root struct's pointer
// slot 2 (null in Miniflare's config) at it.
import { Runtime } from "miniflare";

export function withV8Flags(buffer, flags) {
  if (!flags.length) return buffer;
  const buf = Buffer.from(buffer);
  const segCount = buf.readUInt32LE(0) + 1;
  const sizes = Array.from({ length: segCount }, (_, i) => buf.readUInt32LE(4 + 4 * i));
  const headerBytes = Math.ceil((4 + 4 * segCount) / 8) * 8;
  const seg0 = buf.subarray(headerBytes, headerBytes + sizes[0] * 8);
  const rest = buf.subarray(headerBytes + sizes[0] * 8);
  const root = seg0.readBigUInt64LE(0);
  if ((root & 3n) !== 0n) throw new Error("v8Flags: root pointer is not a struct pointer");
  let offset = Number(root & 0xffffffffn) >> 2; // signed 30 bits
  if (offset & (1 << 29)) offset -= 1 << 30;
  const dataWords = Number((root >> 32n) & 0xffffn);
  const ptrWords = Number((root >> 48n) & 0xffffn);
  if (ptrWords <= 2) throw new Error("v8Flags: Config struct has no pointer slot 2");
  const slot = 1 + offset + dataWords + 2; // word index of Config.v8Flags
  if (seg0.readBigUInt64LE(slot * 8) !== 0n) throw new Error("v8Flags: already set");

  const texts = flags.map((f) => Buffer.from(`${f}\0`, "utf8"));
  const textWords = texts.map((t) => Math.ceil(t.length / 8));
  const extraWords = flags.length + textWords.reduce((a, b) => a + b, 0);
  const out = Buffer.alloc(sizes[0] * 8 + extraWords * 8);
  seg0.copy(out);
  const w0 = sizes[0];
  const listPtr = (wordAt, target, elemSize, count) => {
    const off = BigInt((target - (wordAt + 1)) & 0x3fffffff);
    return 1n | (off << 2n) | (BigInt(elemSize) << 32n) | (BigInt(count) << 35n);
  };
  out.writeBigUInt64LE(listPtr(slot, w0, 6, flags.length), slot * 8); // list of pointers
  let at = w0 + flags.length;
  texts.forEach((t, i) => {
    out.writeBigUInt64LE(listPtr(w0 + i, at, 2, t.length), (w0 + i) * 8); // byte list, NUL included
    t.copy(out, at * 8);
    at += textWords[i];
  });
  const header = Buffer.alloc(headerBytes);
  header.writeUInt32LE(segCount - 1, 0);
  sizes.forEach((s, i) => {
    header.writeUInt32LE(i === 0 ? s + extraWords : s, 4 + 4 * i);
  });
  return Buffer.concat([header, out, rest]);
}

/** Every workerd Miniflare starts from now on gets `flags` (a process-wide V8 setting). */
export function patchMiniflareV8Flags(flags) {
  const original = Runtime.prototype.updateConfig;
  if (original.__v8flags) return;
  Runtime.prototype.updateConfig = function (configBuffer, ...rest) {
    return original.call(this, withV8Flags(configBuffer, flags), ...rest);
  };
  Runtime.prototype.updateConfig.__v8flags = flags;
}
