// The pieces of the service the floor measurement reuses in Node (bundled by the bench).
export { hashEmbedding } from "../../src/local/hash-embedding";
export { recordChunks } from "../../src/vectors/vector-sync";
