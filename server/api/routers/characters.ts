import { z } from "zod";
import { idSchema } from "@/lib/schemas";
import { CharacterModel } from "@/server/characters/model";
import { createTRPCRouter, publicProcedure } from "../trpc";

const withCharacters = publicProcedure.use(({ ctx, next }) =>
  next({ ctx: { characters: new CharacterModel(ctx.db, ctx.session?.user?.id ?? null) } }),
);

export const charactersRouter = createTRPCRouter({
  presets: withCharacters.query(({ ctx }) => ctx.characters.listPresets()),
  get: withCharacters.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.characters.get(input.id)),
});
