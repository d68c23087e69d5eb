CREATE TABLE "app_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limits_key_window_start_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
ALTER TABLE "audio_clips" ADD COLUMN "size_bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "audio_clips" ADD COLUMN "last_used_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "character_snapshot" jsonb;--> statement-breakpoint
CREATE INDEX "rate_limits_window_idx" ON "rate_limits" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "audio_clips_lru_idx" ON "audio_clips" USING btree ("last_used_at");--> statement-breakpoint
CREATE INDEX "auth_sessions_user_idx" ON "auth_sessions" USING btree ("user_id");--> statement-breakpoint
-- Audio cache keys used to be a plain SHA-256 of public data (anyone could compute one and learn
-- whether a sentence was ever spoken). Keys are now keyed with a server secret: the old clips are
-- dropped (they are a cache; replies are spoken again on request).
DELETE FROM "audio_clips";--> statement-breakpoint
UPDATE "messages" SET "audio" = '[]'::jsonb WHERE "audio" <> '[]'::jsonb;--> statement-breakpoint
-- Browser sessions are now rows named by the session cookie; there were none before.
DELETE FROM "auth_sessions";--> statement-breakpoint
-- Chats keep the character as it was when they started (backfilled from its current state).
UPDATE "chat_sessions" cs SET "character_snapshot" = jsonb_build_object(
  'name', c."name", 'description', c."description", 'persona', c."persona", 'greeting', c."greeting",
  'exampleDialogue', c."example_dialogue", 'systemPrompt', c."system_prompt", 'scenario', c."scenario",
  'voiceId', c."voice_id", 'cardExtras', c."card_extras")
FROM "characters" c WHERE c."id" = cs."character_id";
