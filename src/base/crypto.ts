// Hashing and random tokens, in the encodings the service uses. One place for the WebCrypto calls.

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** SHA-256 (base64) of bytes as they are, without decoding them. */
// (The cast: Node's WebCrypto types, which the CLI's build sees, refuse a view of a shared buffer.)
export const sha256Base64OfBytes = async (bytes: Uint8Array) =>
  base64(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
export const sha256Hex = async (text: string) => hex(await sha256(text));
export const sha256Base64 = async (text: string) => base64(await sha256(text));
export const sha256Base64Url = async (text: string) =>
  base64(await sha256(text))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** `bytes` random bytes as hex. */
export const randomToken = (bytes: number) => hex(crypto.getRandomValues(new Uint8Array(bytes)));
