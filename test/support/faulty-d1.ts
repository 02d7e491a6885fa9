import { wrapD1 } from "../../measure/d1-wrapper";

/** Fails the N-th D1 round trip, as a D1 outage or timeout in the middle of a sync would. */
export function failingD1(real: D1Database, failAt: number): D1Database {
  let trips = 0;
  return wrapD1(real, () => {
    trips += 1;
    if (trips === failAt) throw new Error(`injected D1 fault at round trip ${failAt}`);
  });
}
