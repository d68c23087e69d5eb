import NextAuth from "next-auth";
import { authConfig } from "@/server/auth/config";

const { auth } = NextAuth(authConfig);

/** Guards the signed-in pages with the session cookie alone (no database here). */
export default auth;

export const config = {
  matcher: ["/chat/:path*", "/settings/:path*"],
};
