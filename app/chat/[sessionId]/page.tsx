import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
import { ChatRoom } from "@/components/chat/chat-room";
import { HydrateClient, prefetch, serverCaller, trpc } from "@/lib/trpc/server";
import { auth } from "@/server/auth";
import { getI18n } from "@/server/i18n";

const HISTORY_PAGE = 100;

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
  const user = (await auth())?.user;
  if (!user) redirect(`/signin?callbackUrl=${encodeURIComponent(`/chat/${sessionId}`)}`);
  const { session, character } = await load(sessionId);
  prefetch(trpc.sessions.messages.queryOptions({ sessionId, limit: HISTORY_PAGE }));
  return (
    <HydrateClient>
      <ChatRoom
        sessionId={session.id}
        title={session.title}
        model={session.model}
        historyLimit={HISTORY_PAGE}
        character={{ id: character.id, name: character.name, imageUrl: character.imageUrl }}
      />
    </HydrateClient>
  );
}
