import { maybeFail, type FaultTarget } from "./faults";

/**
 * Starts a stand-in call the way a call to Workers AI or Vectorize starts: off the caller's turn.
 *
 * The stand-ins run inside the worker's own workerd process, so without this a call to them
 * never leaves the runtime's event queue. workerd only polls its sockets when that queue is empty,
 * and a few 5000-operation syncs kept it busy for seconds at a time: a GET /health waited out the
 * whole of a 2.4 s sync, and with five big syncs (`npm run load`) requests sat unread for over
 * 10 s until workerd dropped their connections (ECONNRESET; behind `wrangler dev`'s proxy, 503
 * "Your worker restarted mid-request"). A real binding call is network I/O that frees the event
 * loop while it waits; a zero-delay timer does the same here, since timers fire only when workerd
 * polls, which also serves the sockets. Then the stand-in's planned faults apply, if any.
 */
export async function beginRemoteCall(target: FaultTarget, recordIds: string[] = []): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await maybeFail(target, recordIds);
}
