import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './api-error.js';
import { ErrorCode, mapErrorCode } from './error-codes.js';

describe('error codes', () => {
  it('maps every code to an HTTP error status and an OpenAI type', () => {
    for (const code of Object.values(ErrorCode)) {
      const { status, type } = mapErrorCode(code);
      assert.ok(status >= 400 && status < 600, `${code} → ${status}`);
      assert.ok(type.length > 0);
    }
  });

  it('uses the statuses clients and SDKs rely on', () => {
    const expected: Array<[ErrorCode, number, string]> = [
      [ErrorCode.InvalidJson, 400, 'invalid_request_error'],
      [ErrorCode.InvalidApiKey, 401, 'authentication_error'],
      [ErrorCode.ModelNotFound, 404, 'invalid_request_error'],
      [ErrorCode.PayloadTooLarge, 413, 'invalid_request_error'],
      [ErrorCode.RateLimitExceeded, 429, 'rate_limit_error'],
      [ErrorCode.InsufficientQuota, 429, 'insufficient_quota'],
      [ErrorCode.NoPodAvailable, 503, 'service_unavailable'],
      [ErrorCode.UpstreamUnavailable, 503, 'service_unavailable'],
      [ErrorCode.UpstreamError, 502, 'server_error'],
      [ErrorCode.UnsupportedMediaType, 415, 'invalid_request_error'],
      [ErrorCode.ClientClosedRequest, 499, 'invalid_request_error'],
      [ErrorCode.Internal, 500, 'server_error'],
    ];
    for (const [code, status, type] of expected) assert.deepEqual(mapErrorCode(code), { status, type }, code);
  });

  it('serialises as OpenAI error object', () => {
    const err = new ApiError(ErrorCode.InvalidValue, 'bad', 'messages[0].content');
    assert.deepEqual(err.toBody(), { error: { message: 'bad', type: 'invalid_request_error', param: 'messages[0].content', code: 'invalid_value' } });
  });
});
