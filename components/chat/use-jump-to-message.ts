"use client";

import { useSearchParams } from "next/navigation";
import { useEffect, useRef, type RefObject } from "react";

/** The address of a message in a chat: the chat opens scrolled to it, highlighted for a moment. */
export function messageHref(sessionId: string, messageId: string, search?: string) {
  const params = new URLSearchParams({ m: messageId });
  if (search) params.set("q", search);
  return `/chat/${sessionId}?${params}`;
}

/** How far back a search hit is looked for: pages of older history loaded at most. */
const MAX_PAGES = 40;
const HIGHLIGHT = ["ring-2", "ring-brand-400/70", "ring-offset-4", "ring-offset-ink-950", "rounded-2xl"];
const HIGHLIGHT_MS = 2_500;

/**
 * Opens the chat at the message named by `?m=` (a search hit): older pages are loaded until it is
 * there, then it is scrolled to the middle, focused for screen readers and highlighted briefly.
 */
export function useJumpToMessage({
  loadedIds,
  hasOlder,
  loadingOlder,
  loadOlder,
  scrollerRef,
  unpin,
}: {
  loadedIds: string[];
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder: () => unknown;
  scrollerRef: RefObject<HTMLElement | null>;
  /** the chat stops following new messages to the bottom */
  unpin: () => void;
}) {
  const target = useSearchParams().get("m");
  const done = useRef<string | null>(null);
  const pagesLoaded = useRef(0);
  const loaded = target !== null && loadedIds.includes(target);

  useEffect(() => {
    if (!target || done.current === target) return;
    if (!loaded) {
      if (hasOlder && !loadingOlder && pagesLoaded.current < MAX_PAGES) {
        pagesLoaded.current += 1;
        loadOlder();
      }
      return;
    }
    const element = scrollerRef.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(target)}"]`);
    if (!element) return;
    done.current = target;
    unpin();
    element.scrollIntoView({ block: "center" });
    element.tabIndex = -1;
    element.focus({ preventScroll: true });
    element.classList.add(...HIGHLIGHT);
    element.dataset.highlighted = "";
    // Not cleared when the effect runs again (the history keeps changing): the highlight fades regardless.
    setTimeout(() => {
      element.classList.remove(...HIGHLIGHT);
      delete element.dataset.highlighted;
    }, HIGHLIGHT_MS);
  }, [target, loaded, hasOlder, loadingOlder, loadOlder, scrollerRef, unpin]);
}
