// A second app instance for the integration tests: it sends messages through the real
// ChatService against the shared database, prints what happened as one JSON line, and keeps the
// replies running until it is told to stop (or killed, to play a crashed instance).
import { createDatabase } from "@/server/db/client";
import { ChatService } from "@/server/chat/service";

const [userId, ...sessionIds] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
if (!userId || !url) throw new Error("usage: generation-worker <userId> <sessionId…> (DATABASE_URL set)");

const { db } = createDatabase(url);
const chat = new ChatService(db, { id: userId, name: "worker" });
const results = await Promise.all(
  sessionIds.map((sessionId) =>
    chat.send({ sessionId, clientId: crypto.randomUUID(), text: "다른 인스턴스에서 보냄" }).then(
      ({ reply }) => ({ ok: true as const, replyId: reply.id }),
      (error: { code?: string }) => ({ ok: false as const, code: error.code ?? "unknown" }),
    ),
  ),
);
console.log(JSON.stringify(results));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
