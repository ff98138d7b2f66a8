/**
 * The floor for a Node gateway: a node:http server and one undici Pool to one upstream, passing method,
 * path, headers and body through and streaming the response back. No auth, no parsing, no routing, no
 * metrics, no logs: whatever Switchyard costs above this is the price of its pipeline.
 *
 *   node dist/bench/overhead/bare-proxy.js --upstream http://127.0.0.1:8000 [--port 0] [--host 127.0.0.1]
 *
 * Prints one JSON line when listening: {"event":"listening","url":...,"port":...,"pid":...}.
 * The upstream pool is configured like Switchyard's per-pod pool (256 connections, 30 s keep-alive).
 */
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business; undici also refuses some of them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export interface BareProxy {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startBareProxy(upstream: string, port = 0, host = '127.0.0.1'): Promise<BareProxy> {
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000, connect: { timeout: 2_000 } });

  const server = http.createServer((req, res) => {
    // Request bodies here are small JSON documents: collect them and send one buffer upstream (what
    // Fastify does for Switchyard too). The response is streamed chunk by chunk.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      pool
        .stream(
          { path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardHeaders(req.headers), body },
          ({ statusCode, headers }) => {
            res.writeHead(statusCode, responseHeaders(headers));
            return res;
          },
        )
        .catch((err: Error) => {
          if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `bare proxy: ${err.message}`, type: 'upstream_error' } }));
          } else {
            res.destroy(err);
          }
        });
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
    strict: true,
  });
  if (!values.upstream) {
    process.stderr.write('usage: node dist/bench/overhead/bare-proxy.js --upstream URL [--port N|0] [--host 127.0.0.1]\n');
    process.exit(64);
  }
  const proxy = await startBareProxy(values.upstream, Number(values.port), values.host);
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: proxy.url, port: proxy.port, pid: process.pid, upstream: values.upstream })}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      proxy.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

// Runnable as its own process; importable (startBareProxy) without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`bare-proxy: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
