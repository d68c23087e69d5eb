CREATE TABLE "llm_queue" (
	"message_id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"model" text NOT NULL,
	"server" text,
	"instance_id" text NOT NULL,
	"enqueued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"lease_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "llm_queue_server_idx" ON "llm_queue" USING btree ("server") WHERE "llm_queue"."finished_at" is null;--> statement-breakpoint
CREATE INDEX "llm_queue_waiting_idx" ON "llm_queue" USING btree ("enqueued_at") WHERE "llm_queue"."server" is null;--> statement-breakpoint
CREATE INDEX "llm_queue_user_idx" ON "llm_queue" USING btree ("user_id");