/** What KV holds for one API key, under the SHA-256 of the key. Never the plaintext. */
export interface ApiKeyRecord {
  key_id: string;
  organization_id: string;
  /** null: every vector store of the organization. */
  vector_store_ids: string[] | null;
  created_at: string;
  revoked: boolean;
}
