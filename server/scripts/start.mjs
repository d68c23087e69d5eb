#!/usr/bin/env node
// `npm start`: runs Avatar Forge on its embedded defaults at http://127.0.0.1:3000.
// Installs dependencies and builds when needed, keeps a generated AUTH_SECRET under .data/,
// listens on loopback only unless HOST says otherwise, and offers the development sign-in
// (any email, no password) only while nobody else can reach the server.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { listenPlan } from "./listen-plan.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
process.chdir(root);
if (existsSync(".env")) process.loadEnvFile(".env");

/** @param {string} command @param {string[]} args */
function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit", env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** @param {string} dir @returns {number} */
function newestSourceTime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceTime(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

if (!existsSync("node_modules/next/package.json")) {
  console.log("▸ installing dependencies (npm ci)…");
  run("npm", ["ci"]);
}

const buildId = ".next/BUILD_ID";
const sources = ["app", "components", "lib", "server", "public"].filter((d) => existsSync(d));
const stale = !existsSync(buildId) || sources.some((d) => newestSourceTime(d) > statSync(buildId).mtimeMs);
if (stale) {
  console.log("▸ building the app (next build)…");
  run(process.execPath, ["node_modules/next/dist/bin/next", "build"]);
}

mkdirSync(".data", { recursive: true });
if (!process.env.AUTH_SECRET) {
  const secretFile = ".data/auth-secret";
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("base64"), { mode: 0o600 });
  process.env.AUTH_SECRET = readFileSync(secretFile, "utf8").trim();
}
process.env.AUTH_TRUST_HOST ??= "true";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

const plan = listenPlan(process.env);
for (const line of plan.notes) console.log(line);
if (plan.devLogin) process.env.AUTH_DEV_LOGIN = plan.devLogin;
if (plan.warning) console.warn(plan.warning);

const server = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-H", plan.host, "-p", plan.port], {
  stdio: "inherit",
  env: process.env,
});
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => server.kill(signal));
server.on("exit", (code) => process.exit(code ?? 0));
