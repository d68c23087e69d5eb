CREATE TABLE "generation_slots" (
	"message_id" text PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"user_id" text NOT NULL,
	"lease_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "summary_through_seq" bigint;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "token_scale" real;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "swipe_group" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "generation_slots_lease_idx" ON "generation_slots" USING btree ("lease_until");--> statement-breakpoint
CREATE INDEX "messages_session_active_seq_idx" ON "messages" USING btree ("session_id","active","seq");--> statement-breakpoint
CREATE INDEX "messages_swipe_group_idx" ON "messages" USING btree ("swipe_group");--> statement-breakpoint
CREATE INDEX "messages_content_search_idx" ON "messages" USING gin (lower("content") gin_trgm_ops);