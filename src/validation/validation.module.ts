/** OpenAI request schemas, cross-field rules and limits, the capability table. */
import { Module } from '@nestjs/common';
import { RequestValidator } from './request-validator.js';

@Module({ providers: [RequestValidator], exports: [RequestValidator] })
export class ValidationModule {}
