"use client";

import { useQuery } from "@tanstack/react-query";
import { createContext, useContext, type ReactNode } from "react";
import { substitutePlaceholders } from "@/lib/placeholders";
import { useTRPC } from "@/lib/trpc/react";
import { useI18n } from "../i18n-provider";
import { Markdown } from "./markdown";

/** The names `{{char}}` and `{{user}}` stand for where text is shown; null: shown as written. */
const ViewerNames = createContext<{ char: string; user: string } | null>(null);

export function ViewerNamesProvider({ char, user, children }: { char: string; user: string | null; children: ReactNode }) {
  const { t } = useI18n();
  return <ViewerNames.Provider value={{ char, user: user?.trim() || t("viewer.you") }}>{children}</ViewerNames.Provider>;
}

/** In a chat: `{{user}}` is the chat's persona (kept fresh as it changes in the chat's settings). */
export function ChatViewerNames({ sessionId, char, children }: { sessionId: string; char: string; children: ReactNode }) {
  const trpc = useTRPC();
  const chat = useQuery(trpc.sessions.get.queryOptions({ id: sessionId }));
  return (
    <ViewerNamesProvider char={chat.data?.character.name ?? char} user={chat.data?.userName ?? null}>
      {children}
    </ViewerNamesProvider>
  );
}

/** The text with the placeholders replaced, when names are known here. */
export function useViewerText(text: string) {
  const names = useContext(ViewerNames);
  return names ? substitutePlaceholders(text, names) : text;
}

/** A reply as Markdown, its placeholders replaced with the chat's names. */
export function ViewerMarkdown({ text }: { text: string }) {
  return <Markdown text={useViewerText(text)} />;
}
