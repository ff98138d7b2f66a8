/**
 * Admin API authentication: the same AuthService (and cache) as /v1, requiring org_admin or
 * platform_admin. The resulting Actor (principal + where the call came from, for the audit log) is kept
 * per request in a WeakMap, not in a request-scoped provider.
 */
import { type CanActivate, type ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/index.js';
import type { Scope } from '../tenancy/index.js';
import type { Actor } from '../tenancy/index.js';

const ADMIN_SCOPES: readonly Scope[] = ['org_admin', 'platform_admin'];
const actors = new WeakMap<object, Actor>();

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = await this.auth.authenticate(req.headers.authorization, ADMIN_SCOPES, { source: req.ip });
    const userAgent = req.headers['user-agent'];
    actors.set(req, { principal, ip: req.ip, userAgent: userAgent?.slice(0, 300), requestId: req.id });
    return true;
  }
}

/** The authenticated caller of an admin route (AdminGuard must have run). */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const actor = actors.get(context.switchToHttp().getRequest());
  if (!actor) throw new Error('CurrentActor used on a route without AdminGuard');
  return actor;
});
