ALTER TABLE "characters" ADD COLUMN "card_extras" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "search_text" text GENERATED ALWAYS AS (lower(name || ' ' || description || ' ' || (tags)::text)) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "characters_recent_idx" ON "characters" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "characters_search_idx" ON "characters" USING gin ("search_text" gin_trgm_ops);