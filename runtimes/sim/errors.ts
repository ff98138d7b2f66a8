/**
 * Errors in vLLM's wire shape.
 *
 * vLLM ≥ 0.10.1 (PR vllm-project/vllm#22099, `ErrorResponse{error: ErrorInfo}` in
 * vllm/entrypoints/openai/protocol.py) answers every error as
 *   {"error": {"message": "...", "type": "BadRequestError", "param": null, "code": 400}}
 * with `code` the HTTP status as an integer, and sends the same object as an SSE `data:` event when a
 * stream fails mid-way (`create_streaming_error_response`), followed by `data: [DONE]`.
 * vLLM ≤ 0.10.0 sent the flat {"object":"error","message","type","param","code"}; `--error-shape
 * legacy` reproduces that for adapters that must read old servers. SIM_CALIBRATION targets vLLM ≥ 0.10,
 * so the nested shape is the default.
 *
 * `--flavor trtllm` answers as trtllm-serve (tensorrt_llm/serve/openai_server.py): the flat
 * `ErrorResponse` for errors its handlers create (any exception while preparing a request is a 400
 * `BadRequestError`), `{"error": "<text>"}` with 400 for request-validation failures (its FastAPI
 * RequestValidationError handler), and a failure after a stream started aborts the response without
 * an error event (its stream generators re-raise).
 */
import type { ErrorShape, Flavor } from './config.js';

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = errorTypeForStatus(status),
    readonly param: string | null = null,
    /** A malformed request (what a server's request schema refuses), not a semantic refusal. */
    readonly validation = false,
  ) {
    super(message);
  }
}

/** vLLM's `err_type` names for the statuses it (or the simulator's fault injection) produces. */
export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequestError';
    case 401:
      return 'UnauthorizedError';
    case 403:
      return 'ForbiddenError';
    case 404:
      return 'NotFoundError';
    case 405:
      return 'MethodNotAllowedError';
    case 413:
      return 'RequestEntityTooLargeError';
    case 422:
      return 'UnprocessableEntityError';
    case 429:
      return 'RateLimitError';
    case 501:
      return 'NotImplementedError';
    case 503:
      return 'ServiceUnavailableError';
    default:
      return status >= 500 ? 'InternalServerError' : 'BadRequestError';
  }
}

export function errorBody(err: SimError, shape: ErrorShape, flavor: Flavor = 'vllm'): string {
  if (flavor === 'trtllm' && err.validation) return JSON.stringify({ error: err.message });
  const info = { message: err.message, type: err.type, param: err.param, code: err.status };
  return JSON.stringify(shape === 'nested' ? { error: info } : { object: 'error', ...info });
}

/** The SSE `data:` payload of a mid-stream failure: always wrapped in "error" (both vLLM eras). */
export function streamErrorBody(err: SimError, shape: ErrorShape): string {
  const info = { message: err.message, type: err.type, param: err.param, code: err.status };
  return JSON.stringify({ error: shape === 'nested' ? info : { object: 'error', ...info } });
}

/** vLLM's context-length message (renderer / serving validation, ≥ 0.11), or TensorRT-LLM's. */
export function contextLengthError(maxModelLen: number, promptTokens: number, requestedOutput: number, flavor: Flavor = 'vllm'): SimError {
  if (flavor === 'trtllm') {
    // The executor's check on the request, which trtllm-serve returns as a 400 BadRequestError.
    return new SimError(
      400,
      `The sum of prompt length (${promptTokens}) and query length (0) max_tokens (${requestedOutput}) should not exceed max_seq_len (${maxModelLen})`,
    );
  }
  // vLLM tokenizes with truncation at max_model_len + 1, hence "at least".
  const seen = promptTokens > maxModelLen ? maxModelLen + 1 : promptTokens;
  return new SimError(
    400,
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${requestedOutput} output tokens ` +
      `and your prompt contains at least ${seen} input tokens, for a total of at least ${seen + requestedOutput} tokens. ` +
      `Please reduce the length of the input prompt or the number of requested output tokens. (parameter=input_tokens, value=${seen})`,
    'BadRequestError',
    'input_tokens',
  );
}
