import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { createTRPCContext } from "@/server/api/trpc";
import { contentDisposition, downloadName } from "@/server/chats/download";
import { toMarkdown, toSillyTavernJsonl } from "@/server/chats/portability";
import { portableChat } from "@/server/chats/transfer";
import { DomainError, toTRPCError } from "@/server/errors";
import { getI18n } from "@/server/i18n";

export const dynamic = "force-dynamic";

/** One of the user's chats as a file: SillyTavern JSONL (`?format=jsonl`) or a Markdown transcript (`?format=md`). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  try {
    const format = new URL(request.url).searchParams.get("format") ?? "jsonl";
    if (format !== "jsonl" && format !== "md") throw new DomainError("bad_input", "The format must be jsonl or md.");
    if (!/^[\w-]{1,64}$/.test(id)) throw new DomainError("not_found", "Chat was not found.", { what: "Chat" });
    const ctx = await createTRPCContext({ headers: request.headers });
    const user = ctx.session?.user;
    if (!user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    const chat = await portableChat(ctx.db, user.id, id);
    const filename = downloadName([chat.characterName, chat.title], new Date(), format);
    let body: string;
    if (format === "jsonl") {
      body = toSillyTavernJsonl(chat);
    } else {
      const { t } = await getI18n();
      body = toMarkdown(chat, { character: t("portability.mdCharacter"), date: t("portability.mdDate") });
    }
    return new Response(body, {
      headers: {
        "Content-Type": format === "jsonl" ? "application/jsonl; charset=utf-8" : "text/markdown; charset=utf-8",
        "Content-Disposition": contentDisposition(filename),
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
