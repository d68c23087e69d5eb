import { z } from "zod";
import {
  CATEGORIES,
  CHARACTER_LIMITS,
  characterInputSchema,
  characterPatchSchema,
  idSchema,
  lineSchema,
  nameSchema,
  pageCursorSchema,
  searchQuerySchema,
} from "@/lib/schemas";
import { characterFilesFor } from "@/server/characters/assets";
import { exportCharacterCard, importCharacterCard, uploadPortrait } from "@/server/characters/cards";
import { CHARX_MAX_BYTES } from "@/server/cards/charx";
import { CharacterModel } from "@/server/characters/model";
import { budgets } from "@/server/limits/budgets";
import { consume } from "@/server/limits/rate-limit";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc";

const withCharacters = publicProcedure.use(({ ctx, next }) =>
  next({ ctx: { characters: new CharacterModel(ctx.db, ctx.session?.user?.id ?? null) } }),
);
const withOwnCharacters = protectedProcedure.use(({ ctx, next }) =>
  next({ ctx: { characters: new CharacterModel(ctx.db, ctx.user.id) } }),
);

/** Base64 of at most `bytes` bytes (4 characters per 3 bytes). */
const base64Of = (bytes: number, what: string) =>
  z
    .string()
    .min(1, `The ${what} is empty.`)
    .max(Math.ceil(bytes / 3) * 4, `The ${what} is larger than ${Math.round(bytes / 1024 / 1024)} MB.`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, `The ${what} is not valid base64.`);

const imageIdSchema = idSchema.nullable().optional();

export const charactersRouter = createTRPCRouter({
  presets: withCharacters.query(({ ctx }) => ctx.characters.listPresets()),

  gallery: withCharacters
    .input(
      z.object({
        scope: z.enum(["all", "presets", "mine", "public"]).default("all"),
        q: searchQuerySchema().optional(),
        category: lineSchema(CHARACTER_LIMITS.category).optional(),
        tag: lineSchema(CHARACTER_LIMITS.tag).optional(),
        cursor: pageCursorSchema,
        limit: z.number().int().min(1).max(60).default(24),
      }),
    )
    // Only a text search costs: browsing pages and filters is an indexed read.
    .use(async ({ ctx, input, next }) => {
      if (input.q) await consume(ctx.db, budgets.search(ctx.session?.user?.id ?? null));
      return next();
    })
    .query(({ ctx, input }) => ctx.characters.gallery(input)),

  facets: withCharacters.query(async ({ ctx }) => ({ ...(await ctx.characters.facets()), suggestedCategories: CATEGORIES })),

  get: withCharacters.input(z.object({ id: idSchema })).query(({ ctx, input }) => ctx.characters.details(input.id)),

  /** The files a character's card carried (emotion sprites, backgrounds, others), without their bytes; each at /api/assets/<id>. */
  assets: withCharacters
    .input(z.object({ id: idSchema }))
    .query(({ ctx, input }) => characterFilesFor(ctx.db, ctx.session?.user?.id ?? null, input.id)),

  create: withOwnCharacters
    .input(characterInputSchema.extend({ imageId: imageIdSchema }))
    .mutation(({ ctx, input }) => ctx.characters.create(input)),

  update: withOwnCharacters
    .input(z.object({ id: idSchema, data: characterPatchSchema.extend({ imageId: imageIdSchema }) }))
    .mutation(({ ctx, input }) => ctx.characters.update(input.id, input.data)),

  duplicate: withOwnCharacters
    .input(z.object({ id: idSchema, copySuffix: nameSchema(20, "The copy's suffix is empty.").default("(copy)") }))
    .mutation(({ ctx, input }) => ctx.characters.duplicate(input.id, input.copySuffix)),

  delete: withOwnCharacters.input(z.object({ id: idSchema })).mutation(({ ctx, input }) => ctx.characters.delete(input.id)),

  /** A portrait (PNG, JPEG or WebP by its bytes); returns the id to pass to create/update. */
  uploadImage: protectedProcedure
    .input(z.object({ dataBase64: base64Of(CHARACTER_LIMITS.imageBytes, "image") }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.upload(ctx.user.id)).then(() => next()))
    .mutation(({ ctx, input }) => uploadPortrait(ctx.db, ctx.user.id, Buffer.from(input.dataBase64, "base64"))),

  /** A Character Card V1/V2/V3, PNG or JSON, or a CharX (.charx or CHARX-JPEG, with its portrait, 3D avatar and files), becomes a new private character. */
  importCard: protectedProcedure
    .input(z.object({ dataBase64: base64Of(Math.max(CHARACTER_LIMITS.cardBytes, CHARX_MAX_BYTES), "card file") }))
    .use(({ ctx, next }) => consume(ctx.db, budgets.cardImport(ctx.user.id)).then(() => next()))
    .mutation(({ ctx, input }) => importCharacterCard(ctx.db, ctx.user.id, Buffer.from(input.dataBase64, "base64"))),

  /** Any visible character as a V2+V3 PNG card (with its portrait), a V3 JSON card, or a CharX zip (portrait and 3D avatar). */
  exportCard: withCharacters
    .input(z.object({ id: idSchema, format: z.enum(["png", "json", "charx"]) }))
    .query(({ ctx, input }) => exportCharacterCard(ctx.db, ctx.session?.user?.id ?? null, input.id, input.format)),
});
