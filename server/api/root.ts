import { accountRouter } from "./routers/account";
import { apiTokensRouter } from "./routers/api-tokens";
import { avatarsRouter } from "./routers/avatars";
import { charactersRouter } from "./routers/characters";
import { chatRouter } from "./routers/chat";
import { healthRouter } from "./routers/health";
import { personasRouter } from "./routers/personas";
import { sessionsRouter } from "./routers/sessions";
import { voicesRouter } from "./routers/voices";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  chat: chatRouter,
  characters: charactersRouter,
  voices: voicesRouter,
  sessions: sessionsRouter,
  health: healthRouter,
  apiTokens: apiTokensRouter,
  account: accountRouter,
  personas: personasRouter,
  avatars: avatarsRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
