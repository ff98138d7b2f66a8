import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FleetPool, PodEndpoint } from '../fleet-provider.js';
import { LocalFleetProvider } from './local.provider.js';

/** A stand-in runtime: answers /health and /pid on $PORT, exits on SIGTERM once its connections close. */
const RUNTIME = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/pid') return res.end(String(process.pid));
  res.statusCode = 404;
  res.end();
});
server.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function localPool(name: string, replicas: number, command = [process.execPath, '-e', RUNTIME]): FleetPool {
  return { name, runtime: 'vllm', provider: 'local', servedModel: 'm', replicas, template: { local: { command, env: { PORT: '{port}', HOST: '{host}' }, startTimeoutMs: 20_000 } } };
}

/** The provider with its reports kept, and a way to wait for one. */
function provider() {
  const p = new LocalFleetProvider(pino({ level: 'silent' }));
  const reports: Array<{ pool: string; pods: readonly PodEndpoint[] }> = [];
  const waiters: Array<() => void> = [];
  p.onChange((pool, pods) => {
    reports.push({ pool, pods });
    waiters.splice(0).forEach((w) => w());
  });
  const latest = (pool: string) => reports.filter((r) => r.pool === pool).at(-1)?.pods ?? [];
  const until = async (pool: string, test: (pods: readonly PodEndpoint[]) => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!test(latest(pool))) {
      if (Date.now() > deadline) throw new Error(`timed out; last report for ${pool}: ${JSON.stringify(latest(pool))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return latest(pool);
  };
  return { p, latest, until };
}

async function get(url: string): Promise<string> {
  return (await fetch(url)).text();
}

const started: LocalFleetProvider[] = [];
after(() => Promise.all(started.map((p) => p.stop())));

describe('LocalFleetProvider', () => {
  it('runs the configured command per replica and reports each once its health check answers', async () => {
    const { p, latest } = provider();
    started.push(p);
    await p.start([localPool('two', 2)]);
    const pods = latest('two');
    assert.deepEqual(
      pods.map((pod) => [pod.id, pod.phase]),
      [
        ['two-0', 'ready'],
        ['two-1', 'ready'],
      ],
    );
    assert.notEqual(pods[0]!.baseUrl, pods[1]!.baseUrl);
    for (const pod of pods) assert.equal(await get(`${pod.baseUrl}/health`), 'ok');
    await p.stop();
    await assert.rejects(fetch(`${pods[0]!.baseUrl}/health`));
  });

  it('restarts a replica whose process dies, as a Deployment would', async () => {
    const { p, latest, until } = provider();
    started.push(p);
    await p.start([localPool('crashy', 1)]);
    const before = latest('crashy')[0]!;
    process.kill(Number(await get(`${before.baseUrl}/pid`)), 'SIGKILL');
    await until('crashy', (pods) => pods.length === 0);
    const after = (await until('crashy', (pods) => pods.length === 1))[0]!;
    assert.equal(after.id, 'crashy-0');
    assert.equal(await get(`${after.baseUrl}/health`), 'ok');
    await p.stop();
  });

  it('drains the highest replicas on scale-down and starts new ones on scale-up', async () => {
    const { p, until } = provider();
    started.push(p);
    await p.start([localPool('elastic', 2)]);
    await p.scale('elastic', 1);
    const draining = await until('elastic', (pods) => pods.some((pod) => pod.phase === 'draining'));
    assert.deepEqual(
      draining.map((pod) => [pod.id, pod.phase]),
      [
        ['elastic-0', 'ready'],
        ['elastic-1', 'draining'],
      ],
    );
    await until('elastic', (pods) => pods.length === 1);
    await p.scale('elastic', 3);
    const grown = await until('elastic', (pods) => pods.length === 3 && pods.every((pod) => pod.phase === 'ready'));
    assert.deepEqual(
      grown.map((pod) => pod.id),
      ['elastic-0', 'elastic-1', 'elastic-2'],
    );
    await assert.rejects(p.scale('unknown', 1), /not run by the local provider/);
    await p.stop();
  });

  it('fails its start with the output of a command that exits, leaving nothing running', async () => {
    const { p, latest } = provider();
    started.push(p);
    const broken = localPool('broken', 1, [process.execPath, '-e', 'console.error("CUDA error: no GPU here"); process.exit(3)']);
    await assert.rejects(p.start([localPool('fine', 1), broken]), (err: Error) => /code 3/.test(err.message) && /no GPU here/.test(err.message));
    assert.deepEqual(latest('fine'), []);
  });
});
