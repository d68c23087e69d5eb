CREATE TABLE "character_assets" (
	"id" text PRIMARY KEY NOT NULL,
	"character_id" text NOT NULL,
	"kind" text NOT NULL,
	"type" text,
	"name" text DEFAULT '' NOT NULL,
	"ext" text DEFAULT '' NOT NULL,
	"path" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"content_type" text NOT NULL,
	"byte_size" integer NOT NULL,
	"sha256" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD COLUMN "server_held_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD COLUMN "reduction" jsonb;--> statement-breakpoint
ALTER TABLE "character_assets" ADD CONSTRAINT "character_assets_character_id_characters_id_fk" FOREIGN KEY ("character_id") REFERENCES "public"."characters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "character_assets_character_idx" ON "character_assets" USING btree ("character_id","kind","position");