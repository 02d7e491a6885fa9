// Entry module of the offline development environment (wrangler env "dev", npm test).
// It serves the same worker as production, plus local stand-ins for Workers AI and Vectorize,
// which have no local simulation. Only this module exports them, so the production bundle
// (built from the production entry) contains none of their code.
export { default, VectorStoreSync } from "./index";
export { LocalEmbedder } from "./local/local-embedder";
export { LocalVectorIndex, LocalVectorIndex1, LocalVectorStore } from "./local/local-vector-index";
