import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { exportAccountFile } from "@/server/account/data";
import { createTRPCContext } from "@/server/api/trpc";
import { contentDisposition, downloadName } from "@/server/chats/download";
import { DomainError, toTRPCError } from "@/server/errors";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";

export const dynamic = "force-dynamic";

/**
 * Everything of the signed-in user's as one JSON file. Only from the app: not with an API token.
 * Limited per account (ACCOUNT_EXPORTS_PER_HOUR), and one at a time per account.
 */
export async function GET(request: Request) {
  try {
    const ctx = await createTRPCContext({ headers: request.headers });
    const user = ctx.session?.user;
    if (!user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    if (ctx.via === "token") throw new TRPCError({ code: "FORBIDDEN", message: "Export your data from the app's settings." });
    await consume(ctx.db, budgets.accountExport(user.id));
    const file = await exportAccountFile(ctx.db, user.id);
    return new Response(file.text, {
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": contentDisposition(downloadName(["avatar-forge", file.name], new Date(), "json")),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (error) {
    const trpcError = error instanceof DomainError ? toTRPCError(error) : error instanceof TRPCError ? error : null;
    if (!trpcError) throw error;
    const retryAfter = error instanceof DomainError ? error.params.retryAfterSeconds : undefined;
    return Response.json(
      { message: trpcError.message, ...(error instanceof DomainError ? { code: error.code } : {}) },
      { status: getHTTPStatusCodeFromError(trpcError), headers: retryAfter !== undefined ? { "Retry-After": String(retryAfter) } : {} },
    );
  }
}
