// The esbuild options every measurement builds a Worker with (the bench, latency and memory
// entries), as wrangler would bundle it for workerd. hono-openapi's schema converter imports the
// converters of other schema libraries (Effect, Sury, Valibot, zod v3) on demand; the service's
// schemas are zod 4's, which converts itself, so those imports are never taken. wrangler leaves
// them as they are; Miniflare refuses a module it cannot resolve, so here each is bundled as a
// module that refuses to load.
const NEVER_LOADED = /^(effect|sury|zod-to-json-schema|@valibot\/to-json-schema)$/;

const optionalConverters = {
  name: "optional-schema-converters",
  setup(build) {
    build.onResolve({ filter: NEVER_LOADED }, (args) => ({ path: args.path, namespace: "never-loaded" }));
    build.onLoad({ filter: /.*/, namespace: "never-loaded" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled: the service's schemas are zod 4's`)});`,
      loader: "js",
    }));
  },
};

export const WORKER_BUILD = {
  bundle: true,
  format: "esm",
  logLevel: "error",
  sourcemap: false,
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*"],
  plugins: [optionalConverters],
};
