import { z } from "zod";
import { idSchema, nameSchema, PERSONA_LIMITS, textSchema } from "@/lib/schemas";
import { PersonaModel } from "@/server/personas/model";
import { createTRPCRouter, protectedProcedure } from "../trpc";

const withPersonas = protectedProcedure.use(({ ctx, next }) => next({ ctx: { personas: new PersonaModel(ctx.db, ctx.user.id) } }));

const personaFields = z.object({
  name: nameSchema(PERSONA_LIMITS.name, "Give the persona a name."),
  description: textSchema(PERSONA_LIMITS.description, `A description can be at most ${PERSONA_LIMITS.description} characters.`).optional(),
  /** an id from characters.uploadImage; null removes the portrait */
  imageId: idSchema.nullable().optional(),
  isDefault: z.boolean().optional(),
});

/** Who the user plays in chats: `{{user}}` becomes the persona's name. */
export const personasRouter = createTRPCRouter({
  list: withPersonas.query(({ ctx }) => ctx.personas.list()),

  create: withPersonas.input(personaFields).mutation(({ ctx, input }) => ctx.personas.create(input)),

  update: withPersonas
    .input(z.object({ id: idSchema, data: personaFields.partial() }))
    .mutation(({ ctx, input }) => ctx.personas.update(input.id, input.data)),

  delete: withPersonas.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.personas.delete(input.id)),

  /** The persona new chats start with; null for none (the account's name). */
  setDefault: withPersonas.input(z.object({ id: idSchema.nullable() })).mutation(({ ctx, input }) => ctx.personas.setDefault(input.id)),
});
