import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dependencyOutage, dependencyUnavailable } from './dependency-errors.js';

const named = (name: string, props: Record<string, unknown>) => Object.assign(new Error(String(props.message ?? name)), { name, ...props });

describe('dependency outage errors', () => {
  it('recognises PostgreSQL outages as Prisma and node-postgres report them', () => {
    const outages = [
      named('PrismaClientKnownRequestError', { code: 'P1001', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } }),
      named('PrismaClientKnownRequestError', { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '57P01' } } } }),
      named('PrismaClientKnownRequestError', { code: 'P2024' }),
      named('DriverAdapterError', { cause: { kind: 'ConnectionClosed' } }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ];
    for (const err of outages) assert.equal(dependencyOutage(err), 'postgres', err.message);
  });

  it('recognises Redis outages as ioredis reports them', () => {
    assert.equal(dependencyOutage(new Error("Stream isn't writeable and enableOfflineQueue options is false")), 'redis');
    assert.equal(dependencyOutage(named('MaxRetriesPerRequestError', { message: 'Reached the max retries per request limit (which is 1).' })), 'redis');
  });

  it('leaves bugs and bad requests alone (they stay 500s / their own codes)', () => {
    const others = [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      named('PrismaClientKnownRequestError', { code: 'P2002', meta: { driverAdapterError: { cause: { kind: 'UniqueConstraintViolation' } } } }),
      named('PrismaClientValidationError', { message: 'Argument `where` is missing.' }),
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8000'), { code: 'ECONNREFUSED' }),
      null,
      'a string',
    ];
    for (const err of others) assert.equal(dependencyOutage(err), undefined, String(err));
  });

  it("answers in OpenAI's shape with 503 and retry-after", () => {
    const err = dependencyUnavailable('postgres');
    assert.equal(err.status, 503);
    assert.deepEqual(Object.keys(err.toBody().error), ['message', 'type', 'param', 'code']);
    assert.equal(err.toBody().error.code, 'dependency_unavailable');
    assert.ok(Number(err.headers['retry-after']) >= 1);
  });
});
