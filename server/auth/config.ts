import type { NextAuthConfig } from "next-auth";

/** Pages that need a signed-in user; everything else is public. */
export const PROTECTED_PREFIXES = ["/chat", "/settings"];

/**
 * The database-free part of the Auth.js configuration. The proxy (proxy.ts) uses only this,
 * so it can check the session cookie without opening a database connection; server/auth adds
 * the providers and the Drizzle adapter.
 */
export const authConfig = {
  pages: { signIn: "/signin" },
  session: { strategy: "jwt" },
  providers: [],
  callbacks: {
    authorized({ auth, request }) {
      const needsUser = PROTECTED_PREFIXES.some((prefix) => request.nextUrl.pathname.startsWith(prefix));
      return !needsUser || Boolean(auth?.user);
    },
    jwt({ token, user }) {
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
} satisfies NextAuthConfig;
