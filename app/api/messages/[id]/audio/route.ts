import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { createTRPCContext } from "@/server/api/trpc";
import { replyAudio } from "@/server/chat/speaker";
import { contentDisposition, downloadName } from "@/server/chats/download";
import { DomainError, toTRPCError } from "@/server/errors";

export const dynamic = "force-dynamic";

/** A reply's speech as one WAV file to keep (the browser session or a personal API token). */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  try {
    if (!/^[\w-]{1,64}$/.test(id)) throw new DomainError("not_found", "Message was not found.");
    const ctx = await createTRPCContext({ headers: request.headers });
    const user = ctx.session?.user;
    if (!user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    const audio = await replyAudio(ctx.db, user.id, id);
    // Named after the character and when the reply was written, so a day's downloads differ.
    const filename = downloadName([audio.characterName], audio.createdAt, "wav");
    return new Response(new Uint8Array(audio.bytes), {
      headers: {
        "Content-Type": "audio/wav",
        "Content-Length": String(audio.bytes.length),
        "Content-Disposition": contentDisposition(filename),
        "Cache-Control": "private, no-store",
      },
    });
  } catch (error) {
    const trpcError = error instanceof DomainError ? toTRPCError(error) : error instanceof TRPCError ? error : null;
    if (!trpcError) throw error;
    return Response.json({ message: trpcError.message }, { status: getHTTPStatusCodeFromError(trpcError) });
  }
}
