/**
 * runtimes/sim, the vLLM stand-in: it speaks vLLM's API, errors and metric names, so its adapter is
 * vLLM's (cache_salt included), plus one thing no real runtime has — the client's x-sim-fault header,
 * forwarded when SWITCHYARD_SIM_FAULT_INJECTION is on (the dispatcher drops it otherwise), so tests and
 * benchmarks can inject faults through the gateway.
 */
import type { RuntimeKind, UpstreamRequestContext } from '../runtime-adapter.js';
import { VllmAdapter } from '../vllm/vllm.adapter.js';

export class SimAdapter extends VllmAdapter {
  override readonly kind: RuntimeKind = 'sim';

  override upstreamHeaders(ctx: UpstreamRequestContext): Record<string, string> {
    const headers = super.upstreamHeaders(ctx);
    if (ctx.faultInjection) headers['x-sim-fault'] = ctx.faultInjection;
    return headers;
  }
}
