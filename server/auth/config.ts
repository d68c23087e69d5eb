import type { NextAuthConfig } from "next-auth";
import { authRedirect } from "./callback-url";

/** The sign-in page, coming back to `path` (a same-site path) afterwards. */
export const signInUrl = (path: string) => `/signin?callbackUrl=${encodeURIComponent(path)}`;

/**
 * The longest a session lasts, in seconds: its row in auth_sessions expires this long after
 * sign-in, however active the browser is, so a copied cookie can't be kept alive forever.
 */
export const SESSION_MAX_AGE_S = 30 * 24 * 60 * 60;

/** Pages that need a signed-in user; everything else is public. */
export const PROTECTED_PREFIXES = ["/chat", "/settings"];

/**
 * The database-free part of the Auth.js configuration. The proxy (proxy.ts) uses only this,
 * so it can check the session cookie without opening a database connection; server/auth adds
 * the providers and the Drizzle adapter.
 */
export const authConfig = {
  pages: { signIn: "/signin" },
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
  providers: [],
  callbacks: {
    redirect: authRedirect,
    authorized({ auth, request }) {
      const { pathname, search } = request.nextUrl;
      const needsUser = PROTECTED_PREFIXES.some((prefix) => pathname.startsWith(prefix));
      if (!needsUser || auth?.user) return true;
      // A relative callback: the sign-in page accepts same-site paths only.
      const signIn = new URL(signInUrl(pathname + search), request.nextUrl);
      return Response.redirect(signIn);
    },
    // The proxy can't reach the database; it can at least turn away a cookie from before session
    // rows existed (no `sid`), which the full configuration (server/auth) would refuse anyway.
    jwt({ token }) {
      return typeof token.sid === "string" ? token : null;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
} satisfies NextAuthConfig;
