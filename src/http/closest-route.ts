/**
 * The served route nearest to a path that matched none, for a 404 that helps: segments compared
 * one by one, a route's `:param` matching any segment, a literal scored by edit distance, a
 * method that differs costing a little. Bounded whatever the client sends: at most
 * MAX_SEGMENTS segments of MAX_SEGMENT_CHARS characters are compared.
 */
export interface Route {
  method: string;
  path: string;
}

const MAX_SEGMENTS = 12;
const MAX_SEGMENT_CHARS = 64;

const segmentsOf = (path: string) =>
  path
    .split("/")
    .filter((s) => s.length > 0)
    .slice(0, MAX_SEGMENTS + 1)
    .map((s) => s.slice(0, MAX_SEGMENT_CHARS));

/** Levenshtein distance over at most MAX_SEGMENT_CHARS characters each, as a share of the longer. */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]! / Math.max(a.length, b.length);
}

function cost(method: string, segments: string[], route: Route): number {
  const pattern = segmentsOf(route.path);
  let total = Math.abs(pattern.length - segments.length);
  for (let i = 0; i < Math.min(pattern.length, segments.length); i++) {
    if (!pattern[i]!.startsWith(":")) total += distance(segments[i]!, pattern[i]!);
  }
  return total + (route.method === method ? 0 : 0.1);
}

/** The route as the docs write it: `GET /v1/vector_stores/{vector_store_id}`. */
export const describeRoute = (route: Route) => `${route.method} ${route.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;

/** The nearest route, or null when none is near enough to be a likely meaning (or none is given). */
export function closestRoute(method: string, path: string, routes: readonly Route[]): Route | null {
  const segments = segmentsOf(path);
  let best: Route | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const route of routes) {
    const c = cost(method, segments, route);
    if (c < bestCost) [best, bestCost] = [route, c];
  }
  // Past this, the request names something else altogether: pointing at a route would mislead.
  return bestCost <= 1 ? best : null;
}
