/**
 * The /v1 inference POST routes, registered straight on Fastify: no guard, pipe or interceptor runs on
 * them (the pipeline is the whole story), so Nest's router layer would only add per-request cost.
 */
import type { FastifyInstance } from 'fastify';
import type { InferenceEndpoint } from '../runtimes/index.js';
import type { InferencePipeline } from './inference.pipeline.js';

const ROUTES: Array<[string, InferenceEndpoint]> = [
  ['/v1/chat/completions', 'chat.completions'],
  ['/v1/completions', 'completions'],
  ['/v1/embeddings', 'embeddings'],
];

export function registerInferenceRoutes(fastify: FastifyInstance, pipeline: InferencePipeline): void {
  for (const [url, endpoint] of ROUTES) {
    fastify.post(url, (req, reply) => pipeline.handle(endpoint, req, reply));
  }
}
