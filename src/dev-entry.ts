// Entry module of the offline development environment (wrangler env "dev", npm test).
// It serves the same worker as production; local stand-ins for platform services that have
// no local simulation are exported from here, so the production bundle never contains them.
export { default } from "./index";
