/**
 * Command line of the simulator, validated once into a typed SimConfig. Flags follow `vllm serve`
 * names where vLLM has one (--max-model-len, --max-num-seqs, --max-num-batched-tokens, --seed).
 */
import { parseArgs } from 'node:util';
import { TOKENIZER_IDS, type TokenizerId } from '../../src/config/index.js';
import type { FaultFlags } from './faults.js';
import { getProfile, type SimProfile } from './profiles.js';

export type ErrorShape = 'nested' | 'legacy';

/** Which server's API the simulator speaks: vLLM's OpenAI server, or TensorRT-LLM's trtllm-serve. */
export type Flavor = 'vllm' | 'trtllm';

export interface SimConfig {
  model: string;
  host: string;
  port: number;
  profile: SimProfile;
  tokenizer: TokenizerId;
  maxModelLen: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  kvCapacityTokens: number;
  enablePrefixCaching: boolean;
  embeddingDim: number;
  seed: number;
  frontendOverheadMs: number;
  errorShape: ErrorShape;
  flavor: Flavor;
  shutdownGraceMs: number;
  faults: FaultFlags;
}

export class ConfigError extends Error {}

const USAGE = `usage: node dist/runtimes/sim/main.js --model <served name> --profile <id> [--port <n|0>] [--host 127.0.0.1]
  [--max-model-len N] [--max-num-seqs N] [--max-num-batched-tokens N] [--kv-capacity-tokens N]
  [--no-enable-prefix-caching] [--embedding-dim N] [--tokenizer llama3|qwen3] [--seed N]
  [--frontend-overhead-ms N] [--error-shape nested|legacy] [--flavor vllm|trtllm] [--shutdown-grace-ms N]
  [--fault-error-rate P --fault-error-status 400|429|500|503] [--fault-crash-after-tokens N]
  [--fault-stall-ms N --fault-stall-after-tokens N] [--fault-error-after-tokens N] [--fault-slow-start-ms N]`;

export function parseSimArgs(argv: string[]): SimConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        'served-model-name': { type: 'string' },
        profile: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'max-model-len': { type: 'string' },
        'max-num-seqs': { type: 'string' },
        'max-num-batched-tokens': { type: 'string' },
        'kv-capacity-tokens': { type: 'string' },
        'no-enable-prefix-caching': { type: 'boolean' },
        'embedding-dim': { type: 'string' },
        tokenizer: { type: 'string' },
        seed: { type: 'string' },
        'frontend-overhead-ms': { type: 'string' },
        'error-shape': { type: 'string' },
        flavor: { type: 'string' },
        'shutdown-grace-ms': { type: 'string' },
        'fault-error-rate': { type: 'string' },
        'fault-error-status': { type: 'string' },
        'fault-crash-after-tokens': { type: 'string' },
        'fault-stall-ms': { type: 'string' },
        'fault-stall-after-tokens': { type: 'string' },
        'fault-error-after-tokens': { type: 'string' },
        'fault-slow-start-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new ConfigError(USAGE);
  const model = str(values['served-model-name']) ?? str(values.model);
  if (!model) throw new ConfigError(`--model is required\n${USAGE}`);
  const profileId = str(values.profile);
  if (!profileId) throw new ConfigError(`--profile is required\n${USAGE}`);
  let profile: SimProfile;
  try {
    profile = getProfile(profileId);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }

  const tokenizer = (str(values.tokenizer) ?? defaultTokenizer(model, profile)) as TokenizerId;
  if (!TOKENIZER_IDS.includes(tokenizer)) throw new ConfigError(`--tokenizer must be one of ${TOKENIZER_IDS.join(', ')}`);
  // Model-config maximum: Llama-3.x 131,072, Qwen3 40,960 (SIM_CALIBRATION §4).
  const familyMaxLen = tokenizer === 'qwen3' ? 40_960 : 131_072;
  const flavor = str(values.flavor) ?? 'vllm';
  if (flavor !== 'vllm' && flavor !== 'trtllm') throw new ConfigError('--flavor must be vllm or trtllm');
  // trtllm-serve's ErrorResponse is the flat shape, which vLLM ≤ 0.10.0 also used.
  const errorShape = str(values['error-shape']) ?? (flavor === 'trtllm' ? 'legacy' : 'nested');
  if (errorShape !== 'nested' && errorShape !== 'legacy') throw new ConfigError('--error-shape must be nested or legacy');
  if (flavor === 'trtllm' && errorShape !== 'legacy') throw new ConfigError('--flavor trtllm answers errors in its own flat shape: drop --error-shape');

  const config: SimConfig = {
    model,
    host: str(values.host) ?? '127.0.0.1',
    port: int(values.port, 'port', 0, 0, 65535),
    profile,
    tokenizer,
    maxModelLen: int(values['max-model-len'], 'max-model-len', profile.zeroCost ? familyMaxLen : profile.maxModelLen, 1),
    maxNumSeqs: int(values['max-num-seqs'], 'max-num-seqs', profile.maxNumSeqs, 1),
    maxNumBatchedTokens: int(values['max-num-batched-tokens'], 'max-num-batched-tokens', profile.maxNumBatchedTokens, 1),
    kvCapacityTokens: int(values['kv-capacity-tokens'], 'kv-capacity-tokens', profile.kvCapacityTokens, 16),
    enablePrefixCaching: values['no-enable-prefix-caching'] !== true,
    embeddingDim: int(values['embedding-dim'], 'embedding-dim', 1024, 1, 65536),
    seed: int(values.seed, 'seed', 0, 0),
    frontendOverheadMs: num(values['frontend-overhead-ms'], 'frontend-overhead-ms', profile.frontendOverheadMs, 0),
    errorShape,
    flavor,
    shutdownGraceMs: int(values['shutdown-grace-ms'], 'shutdown-grace-ms', 5000, 0),
    faults: {
      errorRate: num(values['fault-error-rate'], 'fault-error-rate', 0, 0, 1),
      errorStatus: int(values['fault-error-status'], 'fault-error-status', 500, 400, 599),
      crashAfterTokens: optInt(values['fault-crash-after-tokens'], 'fault-crash-after-tokens'),
      stallMs: int(values['fault-stall-ms'], 'fault-stall-ms', 0, 0),
      stallAfterTokens: int(values['fault-stall-after-tokens'], 'fault-stall-after-tokens', 1, 0),
      errorAfterTokens: optInt(values['fault-error-after-tokens'], 'fault-error-after-tokens'),
      slowStartMs: int(values['fault-slow-start-ms'], 'fault-slow-start-ms', 0, 0),
    },
  };
  if (config.maxNumBatchedTokens < config.maxNumSeqs) {
    // Same check as vLLM's SchedulerConfig.
    throw new ConfigError(
      `max_num_batched_tokens (${config.maxNumBatchedTokens}) must be greater than or equal to max_num_seqs (${config.maxNumSeqs}).`,
    );
  }
  const capacity = Math.floor(config.kvCapacityTokens / 16) * 16;
  if (config.maxModelLen > capacity) {
    // vLLM refuses to start when one max-length request cannot fit in the KV pool.
    throw new ConfigError(
      `To serve at least one request with the models's max seq len (${config.maxModelLen}), the KV cache needs ` +
        `${config.maxModelLen} tokens, which is larger than its capacity (${capacity} tokens). ` +
        `Based on the available memory, the estimated maximum model length is ${capacity}. Decrease --max-model-len.`,
    );
  }
  return config;
}

function defaultTokenizer(model: string, profile: SimProfile): TokenizerId {
  const name = model.toLowerCase();
  if (name.includes('qwen')) return 'qwen3';
  if (name.includes('llama')) return 'llama3';
  return profile.tokenizer;
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: string | boolean | undefined, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`--${name} must be a number in [${min}, ${max}], got ${String(v)}`);
  }
  return n;
}

function int(v: string | boolean | undefined, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const n = num(v, name, fallback, min, max);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name} must be an integer, got ${String(v)}`);
  return n;
}

function optInt(v: string | boolean | undefined, name: string): number | undefined {
  return v === undefined ? undefined : int(v, name, 0, 0);
}
