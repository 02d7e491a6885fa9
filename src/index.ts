import type { AppEnv } from "./env";
import { runScheduled } from "./jobs/scheduled";
import { app } from "./http/app";

export { app };

export { VectorStoreSync } from "./store/store-object";

export default {
  fetch: app.fetch,
  // Cron Trigger (wrangler.toml [triggers]): runScheduled.
  scheduled(_controller, env, ctx) {
    runScheduled(env, ctx);
  },
} satisfies ExportedHandler<AppEnv["Bindings"]>;
