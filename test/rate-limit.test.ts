import { expect, it } from "vitest";
import { createTenant, sync } from "./support/helpers";

it("more than 100 sync requests a minute for one organization -> 429 with Retry-After; others unaffected", async () => {
  const t = await createTenant();
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<typeof sync>> | null = null;
  // The limiter counts fixed 60-second windows: a run that crosses a boundary starts a fresh
  // window, so up to 200 requests are allowed before the 429 has to come.
  for (let i = 0; i < 201 && !limited; i++) {
    const res = await sync(t, []);
    statuses.push(res.status);
    if (res.status === 429) limited = res;
  }
  expect(limited).not.toBeNull();
  expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(100);
  expect(limited!.body.error).toMatchObject({ code: "RATE_LIMIT_EXCEEDED", type: "rate_limit_error", status: 429 });
  expect(limited!.headers.get("Retry-After")).toBe("60");

  const other = await createTenant();
  expect((await sync(other, [])).status).toBe(200);
});
