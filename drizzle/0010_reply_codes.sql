ALTER TABLE "chat_sessions" ADD COLUMN "summary_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "summary_retry_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "error_code" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "error_params" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "finish_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "thinking" text;--> statement-breakpoint
-- Failed replies used to keep an English sentence; they keep a code from now on (shown in the
-- reader's language). The old sentences are mapped to the codes that wrote them.
UPDATE "messages" SET "error_code" = CASE
  WHEN "error" = 'interrupted' THEN 'interrupted'
  WHEN "error" ILIKE '%could not be saved%' THEN 'reply_failed'
  WHEN "error" ILIKE '%unreachable%' THEN 'llm_unreachable'
  WHEN "error" ILIKE '%in time%' OR "error" ILIKE '%stopped answering%' THEN 'llm_timeout'
  WHEN "error" ILIKE '%is not installed%' THEN 'llm_model_missing'
  WHEN "error" ILIKE '%busy%' THEN 'busy'
  ELSE 'llm_failed' END
WHERE "error" IS NOT NULL;
