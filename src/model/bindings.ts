// The slices of the Workers AI and Vectorize bindings the service uses: production's bindings
// and the local stand-ins implement the same.

/** The slice of the Workers AI binding the service uses (the local stand-in implements the same). */
export interface EmbeddingBinding {
  run(model: string, inputs: { text: string[] }): Promise<unknown>;
}

/** The slice of the Workers AI binding a search's reranking uses: a cross-encoder (bge-reranker-base). */
export interface RerankBinding {
  run(model: string, inputs: { query: string; contexts: { text: string }[]; top_k?: number }): Promise<unknown>;
}

export interface IndexVector {
  id: string;
  values: Float32Array | number[];
  namespace: string;
  metadata: Record<string, VectorizeVectorMetadata>;
}

/** The slice of the Vectorize binding the service uses (the local stand-in implements the same). */
export interface VectorIndexBinding {
  upsert(vectors: IndexVector[]): Promise<{ mutationId: string }>;
  deleteByIds(ids: string[]): Promise<{ mutationId: string }>;
  getByIds(ids: string[]): Promise<VectorizeVector[]>;
  query(vector: number[], options: VectorizeQueryOptions): Promise<VectorizeMatches>;
  describe(): Promise<VectorizeIndexInfo>;
}
