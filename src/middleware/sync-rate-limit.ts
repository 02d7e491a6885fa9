// The sync limiter is one instance of the shared factory in ./rate-limit (kept here for its importers).
export { syncRateLimit } from "./rate-limit";
