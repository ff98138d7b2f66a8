-- A key's limits set by a platform admin: its org admins may tighten them, never loosen or remove them.
ALTER TABLE "limit_policies" ADD COLUMN "locked_by_platform" BOOLEAN NOT NULL DEFAULT false;
