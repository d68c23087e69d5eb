import NextAuth from "next-auth";
import { authConfig } from "@/server/auth/config";

export const { auth: proxy } = NextAuth(authConfig);

export const config = {
  matcher: ["/chat/:path*", "/settings/:path*"],
};
