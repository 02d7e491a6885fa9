import type { Bindings } from "../env";
import { measureLedgerShards } from "../db/placement";
import { expireOnSchedule } from "./expiry";
import { reconcileAllStores } from "./reconcile";

/**
 * The Cron Trigger's work (wrangler.toml [triggers]): reconcile the index against the ledger, a
 * page per store; expire old sync results and Idempotency-Keys, in bounded pages; measure the
 * ledger shards for placement. The three share one invocation and run side by side.
 */
export function runScheduled(env: Bindings, ctx: Pick<ExecutionContext, "waitUntil">): void {
  ctx.waitUntil(reconcileAllStores(env));
  ctx.waitUntil(expireOnSchedule(env));
  ctx.waitUntil(measureLedgerShards(env));
}
