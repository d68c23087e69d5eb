CREATE TYPE "public"."avatar_job_status" AS ENUM('queued', 'running', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TABLE "avatar_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"character_id" text NOT NULL,
	"image_id" text,
	"image_path" text,
	"status" "avatar_job_status" DEFAULT 'queued' NOT NULL,
	"protocol" text NOT NULL,
	"server" text,
	"remote_id" text,
	"progress" real DEFAULT 0 NOT NULL,
	"current_step" text,
	"error_code" text,
	"error_params" jsonb,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"result_model_id" text,
	"instance_id" text,
	"lease_until" timestamp with time zone,
	"last_heard_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "avatar_models" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text,
	"format" text NOT NULL,
	"source" text NOT NULL,
	"vrm_version" text,
	"sha256" text NOT NULL,
	"byte_size" integer NOT NULL,
	"triangles" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "avatar_model_id" text;--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD CONSTRAINT "avatar_jobs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD CONSTRAINT "avatar_jobs_character_id_characters_id_fk" FOREIGN KEY ("character_id") REFERENCES "public"."characters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD CONSTRAINT "avatar_jobs_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "avatar_jobs" ADD CONSTRAINT "avatar_jobs_result_model_id_avatar_models_id_fk" FOREIGN KEY ("result_model_id") REFERENCES "public"."avatar_models"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "avatar_models" ADD CONSTRAINT "avatar_models_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "avatar_jobs_user_idx" ON "avatar_jobs" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "avatar_jobs_character_idx" ON "avatar_jobs" USING btree ("character_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "avatar_jobs_open_idx" ON "avatar_jobs" USING btree ("created_at") WHERE "avatar_jobs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "avatar_models_owner_idx" ON "avatar_models" USING btree ("owner_id");--> statement-breakpoint
ALTER TABLE "characters" ADD CONSTRAINT "characters_avatar_model_id_avatar_models_id_fk" FOREIGN KEY ("avatar_model_id") REFERENCES "public"."avatar_models"("id") ON DELETE set null ON UPDATE no action;