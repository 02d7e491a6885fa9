import { z } from "zod";
import { OrganizationId, VectorStoreId } from "./common";

export const CreateVectorStoreRequest = z.object({
  organization_id: OrganizationId,
  name: z.string().min(1).max(200).optional(),
  id: VectorStoreId.optional(),
});

export const VectorStore = z.object({
  id: z.string(),
  organization_id: z.string(),
  name: z.string(),
  created_at: z.string(),
});

export const CreateApiKeyRequest = z.object({
  organization_id: OrganizationId,
  vector_store_ids: z.array(VectorStoreId).min(1).max(100).optional(),
});

export const CreatedApiKey = z.object({
  key_id: z.string(),
  api_key: z.string().meta({ description: "The plaintext key. Shown once; only its SHA-256 is stored." }),
  organization_id: z.string(),
  vector_store_ids: z.array(z.string()).nullable(),
});
