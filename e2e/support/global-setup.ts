import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startAllFakes } from "../fakes";
import { freePort } from "./ports";

const root = path.resolve(import.meta.dirname, "../..");
const GOOGLE_CLIENT = { id: "avatar-forge-e2e", secret: "e2e-secret" };

async function waitForHealth(url: string, app: ChildProcess, log: () => string) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`the app exited (${app.exitCode}):\n${log()}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the app did not become healthy:\n${log()}`);
}

/**
 * Starts the fakes (Ollama, GPT-SoVITS, Google issuer) and the production build wired to
 * them, on an embedded Postgres in a throw-away directory. Workers find the addresses in env.
 */
export default async function globalSetup() {
  if (!existsSync(path.join(root, ".next/BUILD_ID"))) {
    const build = spawnSync(process.execPath, ["node_modules/next/dist/bin/next", "build"], { cwd: root, stdio: "inherit" });
    if (build.status !== 0) throw new Error("next build failed");
  }
  await mkdir(path.join(root, "e2e/.artifacts"), { recursive: true });
  const fakes = await startAllFakes({ tokenDelayMs: 15, hunyuan3d: { jobMs: 2_500 } });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "af-e2e-"));
  await chmod(dataDir, 0o755);
  const port = await freePort();
  // Next.js builds absolute URLs (sign-in redirects) with "localhost": use that name throughout.
  const baseURL = `http://localhost:${port}`;

  let output = "";
  const app = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(port)], {
    cwd: root,
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: "",
      EMBEDDED_PG_DIR: path.join(dataDir, "postgres"),
      EMBEDDED_PG_PORT: String(await freePort()),
      OLLAMA_HOST: fakes.ollama.url,
      SOVITS_URL: fakes.sovits.url,
      AVATAR3D_URL: fakes.hunyuan3d.url,
      AVATAR3D_PROTOCOL: "hunyuan3d",
      AUTH_SECRET: "e2e-secret-e2e-secret-e2e-secret-e2e",
      AUTH_TRUST_HOST: "true",
      AUTH_GOOGLE_ID: GOOGLE_CLIENT.id,
      AUTH_GOOGLE_SECRET: GOOGLE_CLIENT.secret,
      AUTH_GOOGLE_ISSUER: fakes.google.issuer,
      // Beside Google, so the specs can check that it never opens a Google account.
      AUTH_DEV_LOGIN: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The server's log is kept beside the other artifacts for when a test fails.
  const log = createWriteStream(path.join(root, "e2e/.artifacts/app.log"));
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  };
  app.stdout?.on("data", capture);
  app.stderr?.on("data", capture);
  await waitForHealth(baseURL, app, () => output);

  process.env.E2E_BASE_URL = baseURL;
  process.env.E2E_OLLAMA_URL = fakes.ollama.url;
  process.env.E2E_SOVITS_URL = fakes.sovits.url;
  process.env.E2E_GOOGLE_URL = fakes.google.url;
  process.env.E2E_HUNYUAN3D_URL = fakes.hunyuan3d.url;

  return async () => {
    if (app.pid) {
      try {
        // The app and the Postgres it started share a process group.
        process.kill(-app.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 1_500));
    if (app.pid) {
      try {
        process.kill(-app.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    log.end();
    await fakes.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
