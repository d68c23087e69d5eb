import "server-only";
import { TRPCError } from "@trpc/server";
import { createTRPCContext } from "@/server/api/trpc";

/** What a file route needs: who is asking (null for a visitor) and the database. */
export interface FileViewer {
  db: Awaited<ReturnType<typeof createTRPCContext>>["db"];
  userId: string | null;
}

/**
 * The viewer of a request to a file route (the browser session or a personal API token), or null
 * when a bad API token was sent: for those routes that is one more "not found", never a 401 that
 * would tell an id exists.
 */
export async function fileViewer(request: Request): Promise<FileViewer | null> {
  const ctx = await createTRPCContext({ headers: request.headers }).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === "UNAUTHORIZED") return null;
    throw error;
  });
  return ctx ? { db: ctx.db, userId: ctx.session?.user?.id ?? null } : null;
}

/** Ids in file URLs: anything else names no row. */
export const FILE_ID = /^[\w-]{1,64}$/;

export const notFoundResponse = () => new Response("Not found", { status: 404 });

/**
 * The file a file route's id names, looked up for the request's viewer; null (answer 404) for a
 * malformed id, a bad API token, or a file this viewer may not see. One path for every file route.
 */
export async function visibleFile<T>(
  request: Request,
  params: Promise<{ id: string }>,
  lookup: (db: FileViewer["db"], viewerId: string | null, id: string) => Promise<T | null>,
): Promise<T | null> {
  const { id } = await params;
  if (!FILE_ID.test(id)) return null;
  const viewer = await fileViewer(request);
  return viewer ? lookup(viewer.db, viewer.userId, id) : null;
}
