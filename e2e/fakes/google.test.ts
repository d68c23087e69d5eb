import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGoogle, type FakeGoogle } from "./google";

let google: FakeGoogle;

beforeAll(async () => {
  google = await startFakeGoogle({ user: { email: "hermione@hogwarts.example", name: "헤르미온느 그레인저" } });
});

afterAll(async () => {
  await google.close();
});

const clientId = "avatar-forge-test";
const redirectUri = "http://127.0.0.1:3000/api/auth/callback/google";

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
}

async function discovery(): Promise<Discovery> {
  return (await (await fetch(`${google.issuer}/.well-known/openid-configuration`)).json()) as Discovery;
}

function decodeSegment(segment: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The authorization-code flow with PKCE and nonce, as Auth.js runs it. */
async function signIn(extraParams: Record<string, string> = {}) {
  const config = await discovery();
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(config.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email profile",
    state: "state-123",
    nonce: "nonce-456",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    ...extraParams,
  }).toString();
  const redirect = await fetch(authorize, { redirect: "manual" });
  expect(redirect.status).toBe(302);
  const callback = new URL(redirect.headers.get("location") ?? "");
  expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
  expect(callback.searchParams.get("state")).toBe("state-123");

  const tokenResponse = await fetch(config.token_endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: `Basic ${Buffer.from(`${clientId}:secret`).toString("base64")}`,
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: callback.searchParams.get("code") ?? "",
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  expect(tokenResponse.status).toBe(200);
  const tokens = (await tokenResponse.json()) as { id_token: string; access_token: string };
  return { config, tokens, idToken: decodeSegment(tokens.id_token.split(".")[1]) };
}

describe("fake google issuer", () => {
  it("advertises exactly the issuer it returns", async () => {
    const config = await discovery();
    expect(config.issuer).toBe(google.issuer);
    expect(google.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config.token_endpoint.startsWith(google.issuer)).toBe(true);
  });

  it("issues a signed id token with the Google profile claims", async () => {
    const { config, tokens, idToken } = await signIn();
    expect(idToken).toMatchObject({
      iss: google.issuer,
      aud: clientId,
      nonce: "nonce-456",
      email: "hermione@hogwarts.example",
      email_verified: true,
      name: "헤르미온느 그레인저",
    });
    expect(idToken.sub).toMatch(/^\d{21}$/);

    const [header, payload, signature] = tokens.id_token.split(".");
    const { keys } = (await (await fetch(config.jwks_uri)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
    const key = keys.find((candidate) => candidate.kid === decodeSegment(header).kid);
    expect(decodeSegment(header).alg).toBe("RS256");
    const valid = verify(
      "RSA-SHA256",
      Buffer.from(`${header}.${payload}`),
      createPublicKey({ key: key ?? {}, format: "jwk" }),
      Buffer.from(signature ?? "", "base64url"),
    );
    expect(valid).toBe(true);
  });

  it("signs in the login_hint address and describes it at userinfo", async () => {
    const { config, tokens, idToken } = await signIn({ login_hint: "ron@hogwarts.example" });
    expect(idToken).toMatchObject({ email: "ron@hogwarts.example", name: "ron" });
    const userinfo = await fetch(config.userinfo_endpoint, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(await userinfo.json()).toMatchObject({ email: "ron@hogwarts.example", name: "ron", sub: idToken.sub });
  });

  it("switches the default user in process and over the control route", async () => {
    google.setUser({ email: "luna@hogwarts.example", name: "Luna", sub: "42", picture: "http://127.0.0.1/luna.png" });
    expect((await signIn()).idToken).toMatchObject({ email: "luna@hogwarts.example", sub: "42", picture: "http://127.0.0.1/luna.png" });

    const control = await fetch(`${google.url}/__control/user`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "neville@hogwarts.example", name: "Neville" }),
    });
    expect(control.status).toBe(200);
    expect((await signIn()).idToken).toMatchObject({ email: "neville@hogwarts.example", name: "Neville" });
  });
});
