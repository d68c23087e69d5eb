import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { createTRPCContext } from "@/server/api/trpc";
import { getDb } from "@/server/db";
import { checkHealth } from "@/server/health";

export const dynamic = "force-dynamic";

const NO_STORE = { "Cache-Control": "no-store" };

/**
 * For monitors: 200 while the database answers (with each dependency's status), else 503.
 * Anonymous monitors get up/down only; a session or API token adds the details (see checkHealth).
 */
export async function GET(request: Request) {
  let signedIn = false;
  try {
    signedIn = Boolean((await createTRPCContext({ headers: request.headers })).session?.user);
  } catch (error) {
    // A wrong or revoked API token is refused, as on every other route; a session that can't be
    // read (its store is what is down) gets the visitor's report.
    if (error instanceof TRPCError) return Response.json({ message: error.message }, { status: getHTTPStatusCodeFromError(error), headers: NO_STORE });
    console.warn("[health] could not read the caller's session:", error);
  }
  const report = await checkHealth(getDb(), { signedIn });
  return Response.json(report, { status: report.services.database.status === "down" ? 503 : 200, headers: NO_STORE });
}
