import { wrapD1 } from "../../measure/d1-wrapper";

/** Records what the service asks of D1: round trips and each statement's bound parameters. */
export interface D1Spy {
  db: D1Database;
  roundTrips: number;
  statements: { sql: string; params: unknown[] }[];
}

export function spyD1(real: D1Database): D1Spy {
  const spy: D1Spy = { db: real, roundTrips: 0, statements: [] };
  spy.db = wrapD1(real, (trip) => {
    spy.roundTrips += 1;
    spy.statements.push(...trip.statements);
  });
  return spy;
}
