// @ts-check
// Where `npm start` listens and whether it turns on the development sign-in: a pure function of
// the environment, so start.mjs stays a list of steps and the rule can be tested.

/** Loopback addresses: a server bound to one of these is reachable only from this machine. */
export const isLoopback = (/** @type {string} */ host) => /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);

/**
 * @param {Record<string, string | undefined>} source the environment (process.env)
 * @returns {{ host: string, port: string, url: string, local: boolean, devLogin: "true" | "false" | undefined, notes: string[], warning: string | null }}
 *   `devLogin` is the AUTH_DEV_LOGIN to set, or undefined to leave it as it is.
 */
export function listenPlan(source) {
  const host = source.HOST || "127.0.0.1";
  const port = source.PORT || "3000";
  const local = isLoopback(host);
  const url = `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  // An empty AUTH_DEV_LOGIN (as a copied .env.example may have) leaves the choice to this plan.
  const devLoginSetting = source.AUTH_DEV_LOGIN || undefined;
  const devLoginForced = devLoginSetting !== undefined && ["true", "1", "yes"].includes(devLoginSetting);
  const google = Boolean(source.AUTH_GOOGLE_ID);

  const notes = local
    ? [
        `▸ listening on ${url}: reachable only from this machine.`,
        "  To open it to other machines, set HOST=0.0.0.0 (or this machine's address) and configure Google",
        "  sign-in (AUTH_GOOGLE_ID, AUTH_GOOGLE_SECRET); the development sign-in then stays off.",
      ]
    : [`▸ listening on ${url} (HOST=${host}): reachable from other machines on the network.`];

  /** @type {"true" | "false" | undefined} */
  let devLogin;
  if (!google && devLoginSetting === undefined) {
    devLogin = local ? "true" : "false";
    notes.push(
      ...(local
        ? [
            "▸ Google sign-in is not configured: the development sign-in (any email, no password) is on,",
            "  because only this machine can reach the server.",
          ]
        : [
            "▸ Google sign-in is not configured and the server is reachable from the network, so the development",
            "  sign-in stays off and nobody can sign in. Configure AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET, or run",
            "  without HOST (loopback only). AUTH_DEV_LOGIN=true turns it on anyway: only on a network you trust.",
          ]),
    );
  }

  const bar = "!".repeat(100);
  const warning =
    devLoginForced && !local
      ? [
          bar,
          `!! WARNING: AUTH_DEV_LOGIN=true on a server reachable from the network (HOST=${host}).`,
          `!! Anyone who can reach ${url} can sign in with any email address, without a password, and use`,
          "!! the app as that person (accounts that sign in with Google are refused). Only on a network you trust.",
          bar,
        ].join("\n")
      : null;

  return { host, port, url, local, devLogin, notes, warning };
}
