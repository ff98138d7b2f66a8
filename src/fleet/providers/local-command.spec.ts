import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, parseCatalogue } from '../../config/index.js';
import type { FleetPool } from '../fleet-provider.js';
import { SIM_MAIN, podCommand, resolveCommand } from './local-command.js';

const VARS = { port: 8123, host: '127.0.0.1', model: 'Qwen/Qwen3-0.6B' };

function pool(template: FleetPool['template']): FleetPool {
  return { name: 'p', runtime: 'vllm', provider: 'local', servedModel: VARS.model, replicas: 1, template };
}

describe('local pod commands', () => {
  it('runs the built simulator as a program for sim: pools', () => {
    assert.ok(existsSync(SIM_MAIN), `${SIM_MAIN} exists after the build`);
    const command = resolveCommand(podCommand(pool({ sim: { profile: 'llama-3.2-1b-h100', args: ['--max-model-len', '4096'] } })), VARS);
    assert.equal(command.file, process.execPath);
    assert.deepEqual(command.args, [SIM_MAIN, '--model', VARS.model, '--profile', 'llama-3.2-1b-h100', '--host', '127.0.0.1', '--port', '8123', '--max-model-len', '4096']);
    assert.equal(command.startTimeoutMs, 120_000);
  });

  it('fills {port}, {host} and {model} into any command and its env', () => {
    const command = resolveCommand(
      podCommand(pool({ local: { command: ['vllm', 'serve', '{model}', '--host', '{host}', '--port', '{port}', '--kv-transfer-config', '{"kv_role":"kv_both"}'], env: { VLLM_PORT_HINT: 'p{port}' } } })),
      VARS,
    );
    assert.equal(command.file, 'vllm');
    assert.deepEqual(command.args, ['serve', VARS.model, '--host', '127.0.0.1', '--port', '8123', '--kv-transfer-config', '{"kv_role":"kv_both"}']);
    assert.deepEqual(command.env, { VLLM_PORT_HINT: 'p8123' });
    assert.equal(command.startTimeoutMs, 600_000);
  });

  it('refuses a local pool without a command', () => {
    assert.throws(() => podCommand(pool({})), /needs local.command or sim.profile/);
  });
});

describe('catalogue: local pools', () => {
  const parse = (p: Record<string, unknown>) =>
    parseCatalogue({ pools: [{ name: 'p', runtime: 'vllm', provider: 'local', servedModel: 's', ...p }], models: [{ name: 'm', pool: 'p', contextWindow: 10, tokenizer: 'llama3' }] }, 'test');

  it('accepts a command that is passed its port, by argument or environment', () => {
    assert.deepEqual(parse({ local: { command: ['vllm', 'serve', 's', '--port', '{port}'] } }).pools[0]!.local, { command: ['vllm', 'serve', 's', '--port', '{port}'] });
    assert.ok(parse({ local: { command: ['./serve.sh'], env: { PORT: '{port}' }, startTimeoutMs: 120_000 } }));
  });

  it('refuses a command that is not told its port, a pool with no command, and one with two', () => {
    assert.throws(() => parse({ local: { command: ['vllm', 'serve', 's'] } }), (e: Error) => e instanceof ConfigError && /\{port\}/.test(e.message));
    assert.throws(() => parse({}), /needs local.command, or sim.profile/);
    assert.throws(() => parse({ sim: { profile: 'zero' }, local: { command: ['x', '{port}'] } }), /both sim and local.command/);
    assert.throws(() => parse({ local: { command: [] } }), ConfigError);
  });
});
