-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "RuntimeKind" AS ENUM ('sim', 'vllm', 'trtllm');

-- CreateEnum
CREATE TYPE "FleetProviderKind" AS ENUM ('local', 'static', 'kubernetes');

-- CreateEnum
CREATE TYPE "ModelKind" AS ENUM ('chat', 'embedding');

-- CreateTable
CREATE TABLE "pools" (
    "name" TEXT NOT NULL,
    "runtime" "RuntimeKind" NOT NULL,
    "provider" "FleetProviderKind" NOT NULL,
    "served_model" TEXT NOT NULL,
    "template" JSONB NOT NULL DEFAULT '{}',
    "replicas" INTEGER NOT NULL DEFAULT 1,
    "min_replicas" INTEGER NOT NULL DEFAULT 0,
    "max_replicas" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "pools_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "models" (
    "name" TEXT NOT NULL,
    "kind" "ModelKind" NOT NULL DEFAULT 'chat',
    "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "pool_name" TEXT NOT NULL,
    "context_window" INTEGER NOT NULL,
    "max_output_tokens" INTEGER,
    "tokenizer" TEXT NOT NULL,
    "chat_template" TEXT,
    "input_price_per_mtok" DECIMAL(12,6) NOT NULL DEFAULT 0,
    "output_price_per_mtok" DECIMAL(12,6) NOT NULL DEFAULT 0,
    "capabilities" JSONB NOT NULL DEFAULT '{}',
    "fallbacks" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "owned_by" TEXT NOT NULL DEFAULT 'switchyard',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "models_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "models_pool_name_idx" ON "models"("pool_name");

-- AddForeignKey
ALTER TABLE "models" ADD CONSTRAINT "models_pool_name_fkey" FOREIGN KEY ("pool_name") REFERENCES "pools"("name") ON DELETE RESTRICT ON UPDATE CASCADE;

