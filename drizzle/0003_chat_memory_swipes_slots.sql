CREATE TABLE "generation_slots" (
	"slot" integer PRIMARY KEY NOT NULL,
	"message_id" text,
	"instance_id" text,
	"user_id" text,
	"lease_until" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "summary_through_seq" bigint;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "token_scale" real;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "swipe_group" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "generation_slots_message_idx" ON "generation_slots" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "messages_session_active_seq_idx" ON "messages" USING btree ("session_id","active","seq");--> statement-breakpoint
CREATE INDEX "messages_swipe_group_idx" ON "messages" USING btree ("swipe_group");--> statement-breakpoint
CREATE INDEX "messages_recent_replies_idx" ON "messages" USING btree ("created_at") WHERE "messages"."model" is not null;--> statement-breakpoint
CREATE INDEX "messages_content_search_idx" ON "messages" USING gin (lower("content") gin_trgm_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "messages_one_streaming_idx" ON "messages" USING btree ("session_id") WHERE "messages"."status" = 'streaming';