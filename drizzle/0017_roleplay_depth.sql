CREATE TABLE "personas" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"image_url" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "personality" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "creator_notes" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "lorebook" jsonb DEFAULT '{"scanDepth":4,"tokenBudget":512,"entries":[]}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "persona_id" text;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "author_note" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "author_note_depth" integer DEFAULT 4 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "parent_id" text;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "branched_at_seq" bigint;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "defaults" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "personas" ADD CONSTRAINT "personas_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "personas_user_idx" ON "personas" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "personas_one_default_idx" ON "personas" USING btree ("user_id") WHERE "personas"."is_default";--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD CONSTRAINT "chat_sessions_persona_id_personas_id_fk" FOREIGN KEY ("persona_id") REFERENCES "public"."personas"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD CONSTRAINT "chat_sessions_parent_id_chat_sessions_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."chat_sessions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_sessions_parent_idx" ON "chat_sessions" USING btree ("parent_id");--> statement-breakpoint
-- Imported cards kept their personality and lorebook among the fields the app did not use: they
-- move to their own columns (kept only as far as the new limits allow, hostile values skipped).
UPDATE "characters" SET
  "personality" = left(CASE WHEN jsonb_typeof("card_extras"->'personality') = 'string' THEN "card_extras"->>'personality' ELSE '' END, 12000),
  "card_extras" = "card_extras" - 'personality'
WHERE "card_extras" ? 'personality';
--> statement-breakpoint
UPDATE "characters" c SET
  "lorebook" = jsonb_build_object(
    'scanDepth', CASE WHEN jsonb_typeof(book->'scan_depth') = 'number' THEN least(greatest((book->>'scan_depth')::numeric, 1), 100)::int ELSE 4 END,
    'tokenBudget', CASE WHEN jsonb_typeof(book->'token_budget') = 'number' THEN least(greatest((book->>'token_budget')::numeric, 16), 8192)::int ELSE 512 END,
    'entries', coalesce((
      SELECT jsonb_agg(jsonb_build_object(
        'id', gen_random_uuid()::text,
        'name', left(CASE WHEN jsonb_typeof(e->'comment') = 'string' THEN regexp_replace(e->>'comment', '[\t\n\r]+', ' ', 'g') ELSE '' END, 80),
        'keys', coalesce((SELECT jsonb_agg(left(trim(k #>> '{}'), 100)) FROM (SELECT k FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e->'keys') = 'array' THEN e->'keys' ELSE '[]'::jsonb END) k
                  WHERE jsonb_typeof(k) = 'string' AND trim(k #>> '{}') <> '' LIMIT 20) ks), '[]'::jsonb),
        'content', left(CASE WHEN jsonb_typeof(e->'content') = 'string' THEN e->>'content' ELSE '' END, 4000),
        'enabled', CASE WHEN jsonb_typeof(e->'enabled') = 'boolean' THEN (e->'enabled')::text::boolean ELSE true END,
        'constant', CASE WHEN jsonb_typeof(e->'constant') = 'boolean' THEN (e->'constant')::text::boolean ELSE false END,
        'caseSensitive', CASE WHEN jsonb_typeof(e->'case_sensitive') = 'boolean' THEN (e->'case_sensitive')::text::boolean ELSE false END,
        'wholeWords', CASE WHEN jsonb_typeof(e->'extensions'->'match_whole_words') = 'boolean' THEN (e->'extensions'->'match_whole_words')::text::boolean ELSE false END,
        'order', CASE WHEN jsonb_typeof(e->'insertion_order') = 'number' THEN least(greatest((e->>'insertion_order')::numeric, 0), 10000)::int ELSE 100 END
      ) ORDER BY ord)
      FROM jsonb_array_elements(book->'entries') WITH ORDINALITY AS x(e, ord)
      WHERE jsonb_typeof(e) = 'object' AND ord <= 100
    ), '[]'::jsonb)),
  "card_extras" = c."card_extras" - 'character_book'
FROM (SELECT id, "card_extras"->'character_book' AS book FROM "characters"
      WHERE jsonb_typeof("card_extras"->'character_book') = 'object' AND jsonb_typeof("card_extras"->'character_book'->'entries') = 'array') b
WHERE c.id = b.id;
