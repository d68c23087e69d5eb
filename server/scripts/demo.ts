// `npm run demo`: the app wired to the protocol fakes, so it can be tried without Ollama,
// GPT-SoVITS or Google. The UI says plainly that fakes are answering.
import { spawn } from "node:child_process";
import path from "node:path";
import { startAllFakes } from "@/e2e/fakes";

const fakes = await startAllFakes({ ollamaPort: 0, sovitsPort: 0, googlePort: 0, tokenDelayMs: 35 });
console.log(`▸ fake Ollama ${fakes.ollama.url} · fake GPT-SoVITS ${fakes.sovits.url} · fake Hunyuan3D ${fakes.hunyuan3d.url} · local Google ${fakes.google.issuer}`);

const app = spawn(process.execPath, [path.join(import.meta.dirname, "start.mjs")], {
  stdio: "inherit",
  env: {
    ...process.env,
    OLLAMA_HOST: fakes.ollama.url,
    SOVITS_URL: fakes.sovits.url,
    AVATAR3D_URL: fakes.hunyuan3d.url,
    AVATAR3D_PROTOCOL: "hunyuan3d",
    AUTH_GOOGLE_ID: "avatar-forge-demo",
    AUTH_GOOGLE_SECRET: "demo-secret",
    AUTH_GOOGLE_ISSUER: fakes.google.issuer,
    AUTH_DEV_LOGIN: "true",
    EMBEDDED_PG_DIR: process.env.EMBEDDED_PG_DIR ?? ".data/demo-postgres",
    EMBEDDED_PG_PORT: process.env.EMBEDDED_PG_PORT ?? "54330",
  },
});
const stop = (signal: NodeJS.Signals) => app.kill(signal);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
app.on("exit", async (code) => {
  await fakes.close();
  process.exit(code ?? 0);
});
