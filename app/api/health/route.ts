import { getDb } from "@/server/db";
import { checkHealth } from "@/server/health";

export const dynamic = "force-dynamic";

/** For monitors: 200 while the database answers (with each dependency's status), else 503. */
export async function GET() {
  const report = await checkHealth(getDb());
  return Response.json(report, {
    status: report.services.database.status === "down" ? 503 : 200,
    headers: { "Cache-Control": "no-store" },
  });
}
