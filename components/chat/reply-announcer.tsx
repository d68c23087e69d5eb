"use client";

import { useEffect, useRef, useState } from "react";
import { useI18n } from "../i18n-provider";

/** A screen reader hears this much of a reply; the rest is in the conversation. */
const ANNOUNCED_CHARACTERS = 400;

/**
 * A polite live region that reads each new reply once it is complete: the replies already on the
 * screen when the chat opens are not read again.
 */
export function ReplyAnnouncer({ last, name }: { last: { id: string; role: string; status: string; content: string } | undefined; name: string }) {
  const { t } = useI18n();
  const [announcement, setAnnouncement] = useState("");
  const key = last && last.role === "assistant" && last.status === "complete" ? `${last.id}:${last.content.length}` : null;
  const seen = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    if (seen.current === undefined) {
      seen.current = key;
      return;
    }
    if (!key || key === seen.current || !last) return;
    seen.current = key;
    const text = last.content.replace(/[*_`#>]/g, "").trim();
    setAnnouncement(t("a11y.replyFrom", { name, text: text.length > ANNOUNCED_CHARACTERS ? `${text.slice(0, ANNOUNCED_CHARACTERS)}…` : text }));
  }, [key, last, name, t]);
  return (
    <div role="status" aria-live="polite" aria-atomic="true" className="sr-only" data-testid="reply-announcer">
      {announcement}
    </div>
  );
}
