import type { ReactNode } from "react";
import { requireUser } from "@/server/auth";

/** Chats fill the viewport: the sidebar and the room scroll on their own, the page never does. */
export default async function ChatLayout({ children }: { children: ReactNode }) {
  await requireUser("/chat");
  return (
    <div className="flex min-h-0 w-full flex-1" data-fullscreen-page="">
      {children}
    </div>
  );
}
