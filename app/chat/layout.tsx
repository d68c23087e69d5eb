import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";

/** Chats fill the viewport: the sidebar and the room scroll on their own, the page never does. */
export default async function ChatLayout({ children }: { children: ReactNode }) {
  if (!(await auth())?.user) redirect("/signin?callbackUrl=%2Fchat");
  return (
    <div className="flex min-h-0 w-full flex-1" data-fullscreen-page="">
      {children}
    </div>
  );
}
