/**
 * Simulator profiles: one per (model, GPU, parallelism) pair, with the step-time parameters, KV
 * capacity and engine limits of SIM_CALIBRATION.md (§1 model, §2 table, §4 vLLM defaults).
 * Every number below comes from that file; its source tags ([S1]..[S11]) are repeated next to each
 * profile so a reader can trace them without opening it. Confidence letters: H ≤ 10 %, M ≤ 25 %,
 * L > 25 % expected error.
 */
import type { TokenizerId } from '../../src/config/index.js';

/** Parameters of the SIM_CALIBRATION §1 step-time model (all in milliseconds). */
export interface StepCostParams {
  /** Decode floor: one full weight read (+ TP all-reduce latency), ms per step. */
  t0: number;
  /** Tokens per step below which linear layers are memory-bound (cost ≈ t0). */
  n0: number;
  /** GEMM cost per 1k tokens above n0, ms. */
  kPf: number;
  /** Decode attention (KV read) cost per 1k context tokens of decoding sequences, ms. */
  cKv: number;
  /** Prefill attention cost per 1M (query, key) pairs, ms. */
  cAtt: number;
  /** Per-sequence scheduling/sampling cost, ms. */
  bSeq: number;
}

export interface SimProfile {
  id: string;
  description: string;
  cost: StepCostParams;
  /** Engine-wide KV capacity in tokens (rounded down to 16-token blocks by the engine). */
  kvCapacityTokens: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  /** Default --max-model-len (model config maximum). */
  maxModelLen: number;
  tokenizer: TokenizerId;
  /**
   * API-server time per request outside the engine (HTTP, tokenize, detokenize). SIM_CALIBRATION §1:
   * vLLM's API server adds roughly 5–15 ms per request; low confidence. We take the low end, 5 ms.
   */
  frontendOverheadMs: number;
  /** The zero profile: no costs and no timers (steps chained with setImmediate). */
  zeroCost: boolean;
}

/** vLLM V1 engine defaults on H100-class GPUs (SIM_CALIBRATION §4, [S7] EngineArgs.get_batch_defaults). */
const H100_LIMITS = { maxNumSeqs: 1024, maxNumBatchedTokens: 8192 } as const;
/** vLLM V1 server defaults on A100 (SIM_CALIBRATION §4, [S7]; A100 excluded from 8192 after PR #17885). */
const A100_LIMITS = { maxNumSeqs: 256, maxNumBatchedTokens: 2048 } as const;
/** b_seq: BLIS trained-physics per-request scheduling coefficient, 4.4 µs/request [S8]; L. */
const B_SEQ = 0.005;
const FRONTEND_MS = 5;
const LLAMA_31_MAX_LEN = 131_072; // Llama-3.1 / 3.2 config max_position_embeddings [S10]
const QWEN3_MAX_LEN = 40_960; // Qwen3 config max_position_embeddings [S10]

function realistic(p: Omit<SimProfile, 'frontendOverheadMs' | 'zeroCost'>): SimProfile {
  return { ...p, frontendOverheadMs: FRONTEND_MS, zeroCost: false };
}

export const PROFILES: Record<string, SimProfile> = {
  // Llama-3.1-8B ×1 H100. T0 6.4 (H, measured) and c_kv 0.0437 (H, measured): median ITL =
  // 6.44 ms + 4.37e-5 ms × input_len, vLLM v0.19.1 [S1]. k_pf 21.3 (H) and c_att 0.94 (M) fitted to
  // single-request TTFT 10k→100k tokens, prefix caching off [S2 Fig. 1]. N0 100 (M) from Vidur
  // operator profiles [S4]. KV 420,896 tokens = 26,306 blocks (H) [S5].
  'llama-3.1-8b-h100': realistic({
    id: 'llama-3.1-8b-h100',
    description: 'Llama-3.1-8B, 1× H100 80GB SXM, bf16, vLLM V1',
    cost: { t0: 6.4, n0: 100, kPf: 21.3, cKv: 0.0437, cAtt: 0.94, bSeq: B_SEQ },
    kvCapacityTokens: 420_896,
    ...H100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Llama-3.1-70B TP4 H100. T0 16.5 (M, derived: Vidur TP4 profile at 1 token + 160 all-reduces +
  // lm_head shard [S4]); k_pf 60 (M, between Vidur slope + all-reduce and the Qwen3-32B scaling);
  // c_kv 0.0273 / c_att 1.17 scaled from 8B by KV bytes and attention FLOPs per GPU; N0 200 (M).
  // KV ≈ 440,000 tokens (M, computed in SIM_CALIBRATION §3).
  'llama-3.1-70b-tp4-h100': realistic({
    id: 'llama-3.1-70b-tp4-h100',
    description: 'Llama-3.1-70B, 4× H100 80GB SXM (TP4), bf16, vLLM V1',
    cost: { t0: 16.5, n0: 200, kPf: 60, cKv: 0.0273, cAtt: 1.17, bSeq: B_SEQ },
    kvCapacityTokens: 440_000,
    ...H100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Llama-3.1-70B TP8 H100. T0 10.0 (M, derived [S4]), k_pf 40 (M, derived), c_kv 0.0137 / c_att
  // 0.59 scaled, N0 250 (M). KV ≈ 1,300,000 tokens (M, computed §3).
  'llama-3.1-70b-tp8-h100': realistic({
    id: 'llama-3.1-70b-tp8-h100',
    description: 'Llama-3.1-70B, 8× H100 80GB SXM (TP8), bf16, vLLM V1',
    cost: { t0: 10.0, n0: 250, kPf: 40, cKv: 0.0137, cAtt: 0.59, bSeq: B_SEQ },
    kvCapacityTokens: 1_300_000,
    ...H100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Qwen3-32B TP2 H100. k_pf 42.5 (H) and c_att 0.89 (M) measured fit TTFT = 42.5 µs·P + 443.22 ps·P²
  // (llm-d calibration, max-num-batched-tokens 8192) [S3]. T0 13.0 (M, derived from the CodeLlama-34B
  // TP2 Vidur profile [S4] and BLIS coefficients [S8]); c_kv 0.0437 scaled; N0 150 (M).
  // KV 307,328 tokens = 19,208 blocks per TP2 instance (H, measured) [S6].
  'qwen3-32b-tp2-h100': realistic({
    id: 'qwen3-32b-tp2-h100',
    description: 'Qwen3-32B, 2× H100 80GB SXM (TP2), bf16, vLLM V1',
    cost: { t0: 13.0, n0: 150, kPf: 42.5, cKv: 0.0437, cAtt: 0.89, bSeq: B_SEQ },
    kvCapacityTokens: 307_328,
    ...H100_LIMITS,
    maxModelLen: QWEN3_MAX_LEN,
    tokenizer: 'qwen3',
  }),
  // Llama-3.2-1B ×1 H100. k_pf 4.0 (M) fitted to one point: 512-token prefill-only requests reach
  // ≈ 230k tokens/s [S2 Fig. 6]. T0 3.0 (L, estimate: no H100 decode measurement found; BLIS
  // per-layer overhead + weight read gives 1.7–2.5 ms). c_kv 0.0109 / c_att 0.235 scaled; N0 300 (L).
  // KV ≈ 2,070,000 tokens (M, computed §3).
  'llama-3.2-1b-h100': realistic({
    id: 'llama-3.2-1b-h100',
    description: 'Llama-3.2-1B, 1× H100 80GB SXM, bf16, vLLM V1',
    cost: { t0: 3.0, n0: 300, kPf: 4.0, cKv: 0.0109, cAtt: 0.235, bSeq: B_SEQ },
    kvCapacityTokens: 2_070_000,
    ...H100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Qwen3-0.6B ×1 H100. T0 3.0 (L, estimate, A100 reference TPOT 4.2 ms from tenstorrent issue
  // #340); k_pf 2.5 (L) scaled from the 1B fit by non-embedding FLOPs; c_kv 0.0383 (M) / c_att 0.41
  // (L) scaled; N0 300 (L). KV 603,392 tokens = 37,712 blocks (H) [S5].
  'qwen3-0.6b-h100': realistic({
    id: 'qwen3-0.6b-h100',
    description: 'Qwen3-0.6B, 1× H100 80GB SXM, bf16, vLLM V1',
    cost: { t0: 3.0, n0: 300, kPf: 2.5, cKv: 0.0383, cAtt: 0.41, bSeq: B_SEQ },
    kvCapacityTokens: 603_392,
    ...H100_LIMITS,
    maxModelLen: QWEN3_MAX_LEN,
    tokenizer: 'qwen3',
  }),
  // Llama-3.1-8B ×1 A100-80GB. All L, derived only from A100 Vidur operator profiles of
  // Meta-Llama-3-8B [S4] (9.76 ms at 1 token, 275.6 ms at 4096), FA2-class attention ≈ 3× H100 per
  // pair; not validated end-to-end. KV ≈ 446,000 tokens (M, computed). A100 server limits 256 / 2048.
  'llama-3.1-8b-a100': realistic({
    id: 'llama-3.1-8b-a100',
    description: 'Llama-3.1-8B, 1× A100 80GB, bf16, vLLM V1 (low confidence)',
    cost: { t0: 10.3, n0: 80, kPf: 63, cKv: 0.075, cAtt: 2.8, bSeq: B_SEQ },
    kvCapacityTokens: 446_000,
    ...A100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Llama-3.1-70B TP4 A100-80GB. All L, derived from the A100 Vidur profile of Meta-Llama-3-70B TP4
  // (25.0 / 665.3 ms at 1 / 4096 tokens) [S4]. KV ≈ 470,000 tokens (M, computed).
  'llama-3.1-70b-tp4-a100': realistic({
    id: 'llama-3.1-70b-tp4-a100',
    description: 'Llama-3.1-70B, 4× A100 80GB (TP4), bf16, vLLM V1 (low confidence)',
    cost: { t0: 27, n0: 120, kPf: 176, cKv: 0.047, cAtt: 3.5, bSeq: B_SEQ },
    kvCapacityTokens: 470_000,
    ...A100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
  }),
  // Zero-cost floor for gateway-overhead benchmarks: every step takes 0 ms and steps are chained with
  // setImmediate, so latency is the simulator's own CPU time. Not a model of any GPU.
  zero: {
    id: 'zero',
    description: 'zero-latency floor (no step cost, no frontend overhead, no timers)',
    cost: { t0: 0, n0: 0, kPf: 0, cKv: 0, cAtt: 0, bSeq: 0 },
    kvCapacityTokens: 4_194_304,
    ...H100_LIMITS,
    maxModelLen: LLAMA_31_MAX_LEN,
    tokenizer: 'llama3',
    frontendOverheadMs: 0,
    zeroCost: true,
  },
};

export function getProfile(id: string): SimProfile {
  const profile = PROFILES[id];
  if (!profile) throw new Error(`unknown profile "${id}"; known: ${Object.keys(PROFILES).join(', ')}`);
  return profile;
}

/**
 * Step duration in ms for one forward pass (SIM_CALIBRATION §1):
 *   t = T0 + k_pf·max(0, N_tok − N0)/1000 + c_kv·S_dec/1000 + c_att·A_pf/1e6 + b_seq·n_seq
 */
export function stepTimeMs(c: StepCostParams, nTok: number, sDec: number, aPf: number, nSeq: number): number {
  if (nSeq === 0) return 0;
  return c.t0 + (c.kPf * Math.max(0, nTok - c.n0)) / 1000 + (c.cKv * sDec) / 1000 + (c.cAtt * aPf) / 1e6 + c.bSeq * nSeq;
}
