// The pieces of the service the floor measurement reuses in Node (bundled by bench/run.mjs).
export { hashEmbedding } from "../src/local/hash-embedding";
export { recordChunks } from "../src/vectors/vector-sync";
