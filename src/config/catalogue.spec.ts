import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_TIER_LIMITS, loadCatalogueFile, loadConfig, parseCatalogue } from './index.js';

const pools = [{ name: 'p', runtime: 'sim', provider: 'local', servedModel: 's', sim: { profile: 'zero' } }];
const model = { name: 'm', pool: 'p', contextWindow: 1, tokenizer: 'llama3' };

describe('catalogue file', () => {
  it('rejects catalogues with dangling references', () => {
    assert.throws(() => parseCatalogue({ pools, models: [{ ...model, pool: 'q' }] }, 'f'), /unknown pool "q"/);
    assert.throws(() => parseCatalogue({ pools, models: [{ ...model, fallbacks: ['x'] }] }, 'f'), /unknown model "x"/);
    assert.throws(() => parseCatalogue({ pools, models: [{ ...model, contextWindow: 0 }] }, 'f'), /contextWindow/);
    assert.throws(() => parseCatalogue({ pools, models: [model, { ...model, name: 'n', aliases: ['m'] }] }, 'f'), /"m" is used twice/);
  });

  it('accepts a kubernetes pool named by selector and port or by an InferencePool, and refuses half or both', () => {
    const kube = (kubernetes: unknown, extra: Record<string, unknown> = {}) =>
      parseCatalogue({ pools: [{ name: 'p', runtime: 'vllm', provider: 'kubernetes', servedModel: 's', kubernetes, ...extra }], models: [model] }, 'f');
    const direct = kube({ deployment: 'llama', selector: { app: 'llama', 'app.kubernetes.io/part-of': 'sy' }, port: 8000 }).pools[0]!;
    assert.deepEqual(direct.kubernetes, { namespace: 'default', deployment: 'llama', selector: { app: 'llama', 'app.kubernetes.io/part-of': 'sy' }, port: 8000 });
    assert.equal(kube({ namespace: 'llm', inferencePool: 'llama' }).pools[0]!.kubernetes!.inferencePool, 'llama');
    assert.throws(() => kube(undefined), /needs kubernetes:/);
    assert.throws(() => kube({ selector: { app: 'x' } }), /needs selector \(pod labels\) and port/);
    assert.throws(() => kube({ inferencePool: 'x', port: 8000 }), /either inferencePool or selector and port/);
    assert.throws(() => kube({ namespace: 'Bad_NS', inferencePool: 'x' }), /namespace/);
    assert.throws(() => kube({ selector: { app: 'x' }, port: 70000 }), /port/);
    assert.throws(() => kube({ selector: { app: 'bad value!' }, port: 80 }), /selector/);
    assert.throws(() => kube({ inferencePool: 'x' }, { endpoints: ['http://a'] }), /belong to other providers/);
    assert.throws(
      () => parseCatalogue({ pools: [{ ...pools[0], kubernetes: { inferencePool: 'x' } }], models: [model] }, 'f'),
      /kubernetes section but provider local/,
    );
  });

  it('fills autoscaling defaults, and refuses a floor above the ceiling or a minimum of 0 without idleToZeroMs', () => {
    const withScaling = (autoscaling: object, pool: object = pools[0]!) => parseCatalogue({ pools: [{ ...pool, autoscaling }], models: [model] }, 'f');
    const a = withScaling({ maxReplicas: 6 }).pools[0]!.autoscaling!;
    assert.deepEqual([a.minReplicas, a.targetInFlightPerPod, a.scaleUp, a.scaleDown.stabilizationMs], [1, 16, { stabilizationMs: 0, maxStepPods: 4, periodMs: 15_000 }, 300_000]);
    assert.equal(withScaling({ minReplicas: 0, maxReplicas: 6, idleToZeroMs: 600_000 }).pools[0]!.autoscaling!.minReplicas, 0);
    assert.throws(() => withScaling({ minReplicas: 0, maxReplicas: 6 }), /idleToZeroMs/);
    assert.throws(() => withScaling({ minReplicas: 4, maxReplicas: 2 }), /above maxReplicas/);
    assert.throws(() => withScaling({}), /maxReplicas/);
    assert.throws(() => withScaling({ maxReplicas: 2 }, { name: 's', runtime: 'vllm', provider: 'static', servedModel: 's', endpoints: ['http://x'] }), /static/);
  });

  it('accepts only the tokenizer ids the prompt stage can load', () => {
    assert.equal(parseCatalogue({ pools, models: [{ ...model, tokenizer: 'qwen3' }] }, 'f').models[0]!.tokenizer, 'qwen3');
    assert.throws(() => parseCatalogue({ pools, models: [{ ...model, tokenizer: 'gpt2' }] }, 'f'), (err: unknown) => err instanceof ConfigError && /tokenizer/.test(err.message));
  });

  it('overrides tier limits field by field, keeping the built-in defaults for the rest', () => {
    const catalogue = parseCatalogue({ pools, models: [model], tiers: { free: { rpm: 5, dailySpend: null } } }, 'f');
    const tiers = loadConfig({ SWITCHYARD_KEY_PEPPER: 'p'.repeat(32) }, catalogue).quota.tiers;
    assert.deepEqual(tiers.free, { ...DEFAULT_TIER_LIMITS.free, rpm: 5, dailySpend: null });
    assert.deepEqual(tiers.standard, DEFAULT_TIER_LIMITS.standard);
    assert.throws(() => parseCatalogue({ pools, models: [model], tiers: { gold: { rpm: 1 } } }, 'f'), /tiers/);
    assert.throws(() => parseCatalogue({ pools, models: [model], tiers: { free: { rpm: -1 } } }, 'f'), /tiers\/free\/rpm/);
  });

  it('reads YAML and JSON files, naming the file in errors', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-config-'));
    const yaml = path.join(dir, 'c.yaml');
    writeFileSync(yaml, 'pools:\n  - { name: p, runtime: sim, provider: local, servedModel: s, sim: { profile: zero } }\nmodels:\n  - { name: m, pool: p, contextWindow: 8, tokenizer: llama3 }\n');
    assert.equal(loadCatalogueFile(yaml).models[0]!.contextWindow, 8);
    const json = path.join(dir, 'c.json');
    writeFileSync(json, '{"pools": [], "models": [');
    assert.throws(() => loadCatalogueFile(json), (err: unknown) => err instanceof ConfigError && err.message.includes(`"${json}" is not valid JSON`));
    assert.equal(loadConfig({ SWITCHYARD_KEY_PEPPER: 'p'.repeat(32), SWITCHYARD_CONFIG_FILE: yaml }).catalogue.models[0]!.name, 'm');
  });
});
