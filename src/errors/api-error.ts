import { ErrorCode, mapErrorCode } from './error-codes.js';

/** OpenAI's error object, exactly as clients and SDKs parse it. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * The one error type our code throws on purpose. Anything else that escapes is a bug and becomes a
 * 500 `server_error` at the edge.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
    /** Extra response headers, e.g. retry-after. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    const mapping = mapErrorCode(code);
    this.status = mapping.status;
    this.type = mapping.type;
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function internalErrorBody(requestId: string): OpenAiErrorBody {
  return {
    error: {
      message: `The server had an error while processing your request. Include the request ID ${requestId} if you report it.`,
      type: 'server_error',
      param: null,
      code: ErrorCode.Internal,
    },
  };
}
