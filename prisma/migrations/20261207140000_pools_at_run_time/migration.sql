-- Pools at run time. A pool deleted through the admin API keeps its row, disabled, so the config seed
-- does not bring it back. A pool created through it is served whether or not a config file names it.
ALTER TABLE "pools" ADD COLUMN "enabled" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "pools" ADD COLUMN "managed" BOOLEAN NOT NULL DEFAULT false;
