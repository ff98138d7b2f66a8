/**
 * The adapter for each runtime kind. Adding a kind to RuntimeKind fails to compile until it has one.
 * Adapters are stateless: one instance per kind serves every pod.
 */
import type { RuntimeAdapter, RuntimeKind } from './runtime-adapter.js';
import { SimAdapter } from './sim/sim.adapter.js';
import { TrtllmAdapter } from './trtllm/trtllm.adapter.js';
import { VllmAdapter } from './vllm/vllm.adapter.js';

const ADAPTERS: Record<RuntimeKind, RuntimeAdapter> = {
  vllm: new VllmAdapter(),
  trtllm: new TrtllmAdapter(),
  sim: new SimAdapter(),
};

export function adapterFor(kind: RuntimeKind): RuntimeAdapter {
  return ADAPTERS[kind];
}
