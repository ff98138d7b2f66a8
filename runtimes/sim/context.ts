/** Everything a request handler needs, built once at start-up. */
import type { ServerResponse } from 'node:http';
import { loadTokenizer, type ModelTokenizer } from '../../src/prompt/tokenizer.js';
import { realClock, type Clock } from './clock.js';
import type { SimConfig } from './config.js';
import { Engine, EngineLoop } from './engine.js';
import { FaultInjector } from './faults.js';
import { BLOCK_SIZE } from './kv-cache.js';
import { SimMetrics } from './metrics.js';
import { OutputVocabulary } from './output.js';
import { TrtllmMetrics } from './trtllm-metrics.js';

export interface SimContext {
  readonly config: SimConfig;
  readonly tokenizer: ModelTokenizer;
  readonly vocab: OutputVocabulary;
  readonly engine: Engine;
  readonly loop: EngineLoop;
  readonly clock: Clock;
  readonly metrics: SimMetrics;
  /** `--flavor trtllm`: trtllm-serve's exporters (/prometheus/metrics, JSON /metrics). */
  readonly trtllmMetrics?: TrtllmMetrics;
  readonly faults: FaultInjector;
  /** Set once a crash fault fired: nothing else may be written. */
  crashing: boolean;
  /** Kills the process abruptly, after flushing what was already written to `res`. */
  crash(res: ServerResponse): void;
}

export function createContext(config: SimConfig, clock: Clock = realClock): SimContext {
  const tokenizer = loadTokenizer(config.tokenizer);
  const engine = new Engine({
    cost: config.profile.cost,
    kvCapacityTokens: config.kvCapacityTokens,
    maxNumSeqs: config.maxNumSeqs,
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    enablePrefixCaching: config.enablePrefixCaching,
  });
  const metrics = new SimMetrics(config.model, engine, config.maxModelLen, {
    blockSize: BLOCK_SIZE,
    numGpuBlocks: engine.kv.numBlocks,
    enablePrefixCaching: config.enablePrefixCaching,
  });
  engine.observer = { interTokenLatency: (ms) => metrics.recordInterTokenLatency(ms) };
  const ctx: SimContext = {
    config,
    tokenizer,
    vocab: new OutputVocabulary(tokenizer),
    engine,
    loop: new EngineLoop(engine, clock),
    clock,
    metrics,
    trtllmMetrics: config.flavor === 'trtllm' ? new TrtllmMetrics(engine) : undefined,
    faults: new FaultInjector(config.faults, config.seed),
    crashing: false,
    crash(res) {
      if (ctx.crashing) return;
      ctx.crashing = true;
      const kill = () => process.kill(process.pid, 'SIGKILL');
      // Let the bytes already written reach the socket, then die without closing anything cleanly.
      if (res.writable && res.headersSent) res.write('', kill);
      setTimeout(kill, 50).unref();
    },
  };
  return ctx;
}
