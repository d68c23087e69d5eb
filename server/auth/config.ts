import type { NextAuthConfig } from "next-auth";

/** The sign-in page, coming back to `path` (a same-site path) afterwards. */
export const signInUrl = (path: string) => `/signin?callbackUrl=${encodeURIComponent(path)}`;

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
      const { pathname, search } = request.nextUrl;
      const needsUser = PROTECTED_PREFIXES.some((prefix) => pathname.startsWith(prefix));
      if (!needsUser || auth?.user) return true;
      // A relative callback: the sign-in page accepts same-site paths only.
      const signIn = new URL(signInUrl(pathname + search), request.nextUrl);
      return Response.redirect(signIn);
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
