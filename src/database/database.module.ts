/** PostgreSQL through Prisma; only repositories use the client. Reachable at boot or start-up fails. */
import { Module } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';

@Module({ providers: [PrismaService], exports: [PrismaService] })
export class DatabaseModule {}
