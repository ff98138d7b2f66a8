-- CreateEnum
CREATE TYPE "LimitScope" AS ENUM ('org', 'key', 'model');

-- CreateTable
CREATE TABLE "limit_policies" (
    "scope_key" TEXT NOT NULL,
    "scope" "LimitScope" NOT NULL,
    "org_id" TEXT NOT NULL,
    "key_id" TEXT,
    "model" TEXT,
    "rpm" INTEGER,
    "tpm" INTEGER,
    "concurrency" INTEGER,
    "daily_spend" DECIMAL(14,6),
    "monthly_spend" DECIMAL(14,6),
    "soft_daily_spend" DECIMAL(14,6),
    "soft_monthly_spend" DECIMAL(14,6),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "limit_policies_pkey" PRIMARY KEY ("scope_key")
);

-- CreateIndex
CREATE INDEX "limit_policies_org_id_idx" ON "limit_policies"("org_id");

-- AddForeignKey
ALTER TABLE "limit_policies" ADD CONSTRAINT "limit_policies_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

