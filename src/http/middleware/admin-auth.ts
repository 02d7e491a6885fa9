import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { Errors } from "../../base/errors";
import { timingSafeEqualText } from "../../auth/api-keys";

/** Admin routes: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization")?.trim() ?? "");
  const expected = c.env.ADMIN_TOKEN;
  // An unset ADMIN_TOKEN must never let an empty or any token in.
  if (!match || !expected || !(await timingSafeEqualText(match[1]!, expected))) {
    throw Errors.invalidAdminToken();
  }
  await next();
});
