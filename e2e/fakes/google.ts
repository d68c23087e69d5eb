// A local OpenID Connect issuer standing in for Google sign-in, built on oauth2-mock-server:
// real RS256-signed id tokens carrying Google's profile claims (sub, email, email_verified, name,
// picture) for a user chosen by the test.
//
// Picking the user:
//   - in process: setUser({ email, name });
//   - from another process: POST /__control/user {"email","name","sub"?,"picture"?};
//   - per sign-in: an authorize request with login_hint=<email> signs in that address
//     (name = the part before "@").
//
//   npx tsx e2e/fakes/google.ts --port 8085
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import {
  Events,
  OAuth2Issuer,
  OAuth2Service,
  type MutableRedirectUri,
  type MutableResponse,
  type MutableToken,
  type TokenRequestIncomingMessage,
} from "oauth2-mock-server";
import { closeOnSignal, isDirectRun, isRecord, numberArg, sendJson, startHttpServer } from "./server-kit";

export interface FakeGoogleUser {
  email: string;
  name: string;
  /** Google's stable account id; derived from the email when omitted. */
  sub?: string;
  picture?: string;
}

export interface FakeGoogleOptions {
  port?: number;
  host?: string;
  user?: FakeGoogleUser;
}

export interface FakeGoogle {
  /** Exactly the `iss` of issued tokens and the `issuer` of the discovery document. */
  issuer: string;
  url: string;
  port: number;
  close(): Promise<void>;
  /** The account signed in by authorize requests without a login_hint. */
  setUser(user: FakeGoogleUser): void;
}

export const DEFAULT_GOOGLE_USER: FakeGoogleUser = { email: "tester@example.com", name: "Test User" };

interface GoogleClaims {
  sub: string;
  email: string;
  email_verified: true;
  name: string;
  picture?: string;
}

/** Google subs are opaque numeric strings; hashing keeps one per email across restarts. */
function subFor(email: string): string {
  const digits = BigInt(`0x${createHash("sha256").update(email.toLowerCase()).digest("hex")}`).toString();
  return `1${digits.slice(0, 20)}`;
}

function claimsFor(user: FakeGoogleUser): GoogleClaims {
  return {
    sub: user.sub ?? subFor(user.email),
    email: user.email,
    email_verified: true,
    name: user.name,
    ...(user.picture === undefined ? {} : { picture: user.picture }),
  };
}

function userFromHint(email: string): FakeGoogleUser {
  return { email, name: email.split("@")[0] || email };
}

function parseUser(value: unknown): FakeGoogleUser | undefined {
  if (!isRecord(value) || typeof value.email !== "string" || !value.email.includes("@") || typeof value.name !== "string") {
    return undefined;
  }
  const user: FakeGoogleUser = { email: value.email, name: value.name };
  if (typeof value.sub === "string") user.sub = value.sub;
  if (typeof value.picture === "string") user.picture = value.picture;
  return user;
}

/** Reads the claims our own access token carries, so /userinfo describes the token's user. */
function claimsFromBearer(req: IncomingMessage): GoogleClaims | undefined {
  const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const payload = token?.split(".")[1];
  if (!payload) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const user = parseUser(decoded);
    return user && claimsFor(user);
  } catch {
    return undefined;
  }
}

export async function startFakeGoogle(opts: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  let currentUser = opts.user ?? DEFAULT_GOOGLE_USER;
  // Like Google, the account is fixed when the user consents (authorize), not when the code is redeemed.
  const usersByCode = new Map<string, FakeGoogleUser>();

  const issuer = new OAuth2Issuer();
  await issuer.keys.generate("RS256");
  const service = new OAuth2Service(issuer);

  service.on(Events.BeforeAuthorizeRedirect, (redirect: MutableRedirectUri, req: IncomingMessage) => {
    const code = redirect.url.searchParams.get("code");
    const hint = new URL(req.url ?? "/", "http://fake").searchParams.get("login_hint");
    if (code) usersByCode.set(code, hint ? userFromHint(hint) : currentUser);
  });
  service.on(Events.BeforeTokenSigning, (token: MutableToken, req: TokenRequestIncomingMessage) => {
    const code = req.body.code;
    const user = (code === undefined ? undefined : usersByCode.get(code)) ?? currentUser;
    Object.assign(token.payload, claimsFor(user));
  });
  service.on(Events.BeforeResponse, (_response: MutableResponse, req: TokenRequestIncomingMessage) => {
    if (req.body.code !== undefined) usersByCode.delete(req.body.code);
  });
  service.on(Events.BeforeUserinfo, (response: MutableResponse, req: IncomingMessage) => {
    response.body = { ...(claimsFromBearer(req) ?? claimsFor(currentUser)) };
  });
  service.addRoute("POST", "/__control/user", (req, res: ServerResponse) => {
    const user = parseUser(req.body);
    if (!user) return sendJson(res, 400, { error: 'body must be {"email","name","sub"?,"picture"?}' });
    currentUser = user;
    sendJson(res, 200, claimsFor(user));
  });

  const host = opts.host ?? "127.0.0.1";
  const server = await startHttpServer(
    async (req, res) => service.requestHandler(req, res),
    opts.port ?? 0,
    host,
  );
  // Set explicitly: the library would otherwise advertise "localhost" for 127.0.0.1.
  issuer.url = server.url;
  return {
    issuer: server.url,
    url: server.url,
    port: server.port,
    close: server.close,
    setUser: (user) => {
      currentUser = user;
    },
  };
}

if (isDirectRun(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
  const fake = await startFakeGoogle({ port: numberArg(values.port, 8085, "port"), host: values.host ?? "127.0.0.1" });
  console.log(`fake google issuer listening on ${fake.issuer}`);
  closeOnSignal(fake.close);
}
