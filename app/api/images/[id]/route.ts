import { TRPCError } from "@trpc/server";
import { createTRPCContext } from "@/server/api/trpc";
import { portraitFor } from "@/server/characters/portraits";
import { immutableBytesResponse } from "@/server/http/byte-range";

export const dynamic = "force-dynamic";

const notFound = () => new Response("Not found", { status: 404 });

/**
 * Uploaded portraits, for whoever may see a character that uses them (the browser session or a
 * personal API token). Anyone else gets 404, never 403, so an id leaks nothing. The bytes of an id
 * never change, but who may see them can: browsers keep them for a year, shared caches never.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[\w-]{1,64}$/.test(id)) return notFound();
  // A bad API token is refused by the context; here that is one more "not found".
  const ctx = await createTRPCContext({ headers: request.headers }).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "UNAUTHORIZED") return null;
    throw error;
  });
  if (!ctx) return notFound();
  const image = await portraitFor(ctx.db, ctx.session?.user?.id ?? null, id);
  if (!image) return notFound();
  return immutableBytesResponse(request, { bytes: image.bytes, contentType: image.contentType, etag: image.sha256 }, { cache: "private" });
}
