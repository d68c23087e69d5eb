import NextAuth, { type NextAuthRequest } from "next-auth";
import { NextResponse, type NextFetchEvent, type NextRequest } from "next/server";
import { env, googleConfigured } from "@/lib/env.mjs";
import { contentSecurityPolicy, newNonce } from "@/lib/security-headers.mjs";
import { crossOriginPageWrite } from "@/lib/request-origin";
import { authConfig, PROTECTED_PREFIXES } from "@/server/auth/config";

const { auth } = NextAuth(authConfig);

/** Google sign-in leaves the site from a form: its issuer is the one other place a form may lead. */
let issuerOrigins: string[] | undefined;
function formTargets() {
  const config = env();
  issuerOrigins ??= googleConfigured(config) ? [new URL(config.AUTH_GOOGLE_ISSUER ?? "https://accounts.google.com").origin] : [];
  return issuerOrigins;
}

/**
 * Every page: a Content-Security-Policy with a fresh nonce, set on the request too, where
 * Next.js reads the nonce for the scripts it renders (so pages render per request). The
 * signed-in pages are guarded with the session cookie alone (no database here); the redirect to
 * sign-in keeps next.config's nonce-less policy. The other security headers come from
 * next.config.mjs, as for API routes and static files. A write from another site is refused
 * before anything else (lib/request-origin.ts).
 */
export default function proxy(request: NextRequest, event: NextFetchEvent) {
  // A Server Action (or form post) from another site: refused here with 403 (Next.js would throw: 500).
  if (crossOriginPageWrite(request.method, request.headers)) {
    return new NextResponse("This request came from another site and was refused.", { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  const policy = contentSecurityPolicy({
    nonce: newNonce(),
    dev: process.env.NODE_ENV === "development",
    formTargets: formTargets(),
  });
  const render = () => {
    const headers = new Headers(request.headers);
    headers.set("content-security-policy", policy);
    const response = NextResponse.next({ request: { headers } });
    response.headers.set("content-security-policy", policy);
    return response;
  };
  const { pathname } = request.nextUrl;
  const guarded = PROTECTED_PREFIXES.some((prefix) => pathname.startsWith(prefix));
  // Auth.js calls back for a signed-in user and answers a visitor with the redirect to sign-in.
  // (Both parameters named: that picks its proxy overload rather than the route handler's.)
  return guarded ? auth((_request: NextAuthRequest, _event: NextFetchEvent) => render())(request, event) : render();
}

export const config = {
  // Pages only. API routes need no nonce (and the proxy would buffer their request bodies, such
  // as ~11 MB card uploads); build output and public files (any path ending in an extension)
  // need none either.
  matcher: ["/((?!api(?:/|$)|_next/|.*\\.\\w+$).*)"],
};
