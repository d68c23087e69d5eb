import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ChatRoom } from "@/components/chat/chat-room";
import { ChatSidebar } from "@/components/chat/chat-sidebar";
import { ChatViewerNames } from "@/components/chat/viewer-names";
import { HydrateClient, prefetch, prefetchInfinite, serverCaller, trpc } from "@/lib/trpc/server";
import { getI18n } from "@/server/i18n";

const HISTORY_PAGE = 50;

async function load(sessionId: string) {
  const caller = await serverCaller();
  return caller.sessions.get({ id: sessionId }).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    if (code === "NOT_FOUND" || code === "BAD_REQUEST") notFound();
    throw error;
  });
}

export async function generateMetadata({ params }: { params: Promise<{ sessionId: string }> }): Promise<Metadata> {
  const [{ t }, { session, character }] = await Promise.all([getI18n(), load((await params).sessionId)]);
  return { title: session.title ?? t("chat.untitled", { name: character.name }) };
}

export default async function ChatPage({ params }: { params: Promise<{ sessionId: string }> }) {
  const { sessionId } = await params;
  const { session, character } = await load(sessionId);
  await Promise.all([
    prefetch(trpc.sessions.get.queryOptions({ id: sessionId })),
    prefetchInfinite(
      trpc.sessions.messages.infiniteQueryOptions({ sessionId, limit: HISTORY_PAGE }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
    ),
    prefetchInfinite(trpc.sessions.list.infiniteQueryOptions({ limit: 30 }, { getNextPageParam: (page) => page.nextCursor ?? undefined })),
  ]);
  return (
    <HydrateClient>
      <ChatSidebar className="hidden w-80 md:flex" />
      <ChatViewerNames sessionId={session.id} char={character.name}>
        <ChatRoom
          key={session.id}
          sessionId={session.id}
          historyLimit={HISTORY_PAGE}
          character={{ id: character.id, name: character.name, imageUrl: character.imageUrl, source: character.source, avatarUrl: character.avatarUrl }}
        />
      </ChatViewerNames>
    </HydrateClient>
  );
}
