import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ArgumentsHost, ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import { OpenAiExceptionFilter } from './openai-exception.filter.js';

interface Sent {
  status: number;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
  logged: number;
}

/** Runs `exception` through the filter with a recording reply, as Nest would. */
function filter(exception: unknown): Sent {
  let logged = 0;
  const logger = { error: () => logged++ } as unknown as Logger;
  const out = { status: 0, body: '' };
  const reply = {
    request: { id: 'req_test' },
    sent: false,
    raw: { headersSent: false },
    status(code: number) {
      out.status = code;
      return reply;
    },
    headers: () => reply,
    header: () => reply,
    send(body: string) {
      out.body = body;
      return reply;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  new OpenAiExceptionFilter(logger).catch(exception, host);
  return { status: out.status, body: JSON.parse(out.body), logged };
}

/** What Nest's Fastify adapter hands the filter for one of Fastify's own 4xx errors. */
function fastifyError(status: number, code: string | undefined, message: string): HttpException {
  return new HttpException(message, status, { cause: Object.assign(new Error(message), { code, statusCode: status }) });
}

function assertError(sent: Sent, status: number, type: string, code: string) {
  assert.equal(sent.status, status);
  assert.deepEqual([sent.body.error.type, sent.body.error.code, sent.body.error.param], [type, code, null]);
  assert.equal(sent.logged, 0, 'a client error is not logged as a failure of ours');
}

describe('the exception filter', () => {
  it("answers Nest's route-not-found like OpenAI: 404 unknown_url", () => {
    const sent = filter(new NotFoundException('Cannot DELETE /v1/chat/completions'));
    assertError(sent, 404, 'invalid_request_error', 'unknown_url');
    assert.equal(sent.body.error.message, 'Invalid URL (DELETE /v1/chat/completions)');
  });

  it("maps Fastify's body and content-type errors by their code and status", () => {
    assertError(filter(fastifyError(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type')), 415, 'invalid_request_error', 'unsupported_media_type');
    assertError(filter(fastifyError(413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large')), 413, 'invalid_request_error', 'request_too_large');
    assertError(filter(fastifyError(400, 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'Request body size did not match Content-Length')), 400, 'invalid_request_error', 'invalid_json');
  });

  it('maps any other HTTP client error by its status, never to a 500', () => {
    assertError(filter(fastifyError(403, undefined, 'Forbidden')), 403, 'permission_error', 'permission_denied');
    assertError(filter(fastifyError(405, undefined, 'Method Not Allowed')), 405, 'invalid_request_error', 'method_not_allowed');
    assertError(filter(new HttpException('ThrottlerException: Too Many Requests', 429)), 429, 'rate_limit_error', 'rate_limit_exceeded');
    assertError(filter(new HttpException('Unauthorized', 401)), 401, 'authentication_error', 'invalid_api_key');
    assertError(filter(new NotFoundException('No such file')), 404, 'invalid_request_error', 'not_found');
    // Statuses without a code of their own are a 400 invalid_request_error.
    assertError(filter(fastifyError(414, 'FST_ERR_MAX_PARAM_LENGTH', 'URI Too Long')), 400, 'invalid_request_error', 'invalid_request_error');
    assertError(filter(new ConflictException('Conflict')), 400, 'invalid_request_error', 'invalid_request_error');
  });

  it('passes our own errors through as they are', () => {
    const sent = filter(new ApiError(ErrorCode.InvalidValue, 'bad', 'name'));
    assert.equal(sent.status, 400);
    assert.deepEqual(sent.body, { error: { message: 'bad', type: 'invalid_request_error', param: 'name', code: 'invalid_value' } });
  });

  it('answers 500 server_error, logged, only for what is neither ours nor an HTTP client error', () => {
    for (const exception of [new TypeError('x is undefined'), new HttpException('Bad Gateway', 502), 'a string']) {
      const sent = filter(exception);
      assert.equal(sent.status, 500);
      assert.deepEqual([sent.body.error.type, sent.body.error.code], ['server_error', 'internal_error']);
      assert.match(sent.body.error.message, /req_test/);
      assert.equal(sent.logged, 1);
    }
  });
});
