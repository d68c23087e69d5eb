import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { exportAccount } from "@/server/account/data";
import { createTRPCContext } from "@/server/api/trpc";
import { contentDisposition, downloadName } from "@/server/chats/download";
import { DomainError, toTRPCError } from "@/server/errors";

export const dynamic = "force-dynamic";

/** Everything of the signed-in user's as one JSON file. Only from the app: not with an API token. */
export async function GET(request: Request) {
  try {
    const ctx = await createTRPCContext({ headers: request.headers });
    const user = ctx.session?.user;
    if (!user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    if (ctx.via === "token") throw new TRPCError({ code: "FORBIDDEN", message: "Export your data from the app's settings." });
    const data = await exportAccount(ctx.db, user.id);
    return new Response(JSON.stringify(data, null, 2), {
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": contentDisposition(downloadName(["avatar-forge", data.profile.name], new Date(), "json")),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (error) {
    const trpcError = error instanceof DomainError ? toTRPCError(error) : error instanceof TRPCError ? error : null;
    if (!trpcError) throw error;
    return Response.json({ message: trpcError.message }, { status: getHTTPStatusCodeFromError(trpcError) });
  }
}
