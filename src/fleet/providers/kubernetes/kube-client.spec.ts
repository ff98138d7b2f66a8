import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KubeApiError, KubeClient, labelSelectorOf } from './kube-client.js';

describe('KubeClient', () => {
  it('says what is missing when neither a kubeconfig nor a service account is there', (t) => {
    if (process.env.KUBERNETES_SERVICE_HOST) return t.skip('running inside a Kubernetes pod');
    assert.throws(() => KubeClient.load(undefined), (err: unknown) => err instanceof KubeApiError && /SWITCHYARD_KUBECONFIG/.test(err.message));
  });

  it('takes the API server from a kubeconfig file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'switchyard-kc-')), 'config');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    assert.equal(KubeClient.load(file).server, 'https://10.0.0.1:6443');
  });

  it('reports an API server that refuses connections as unreachable, and a Status error with its message and code', async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'deployments.apps "llama" is forbidden: User "system:serviceaccount:sy:gw" cannot get resource "deployments/scale"' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-kc-'));
    const config = (p: number) => {
      const file = path.join(dir, `config-${p}`);
      writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${p}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
      return file;
    };
    await assert.rejects(KubeClient.load(config(port)).getScale('sy', 'llama'), (err: unknown) => err instanceof KubeApiError && err.status === 403 && /cannot get resource "deployments\/scale"/.test(err.message));
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(KubeClient.load(config(port)).setScale('sy', 'llama', 2), (err: unknown) => err instanceof KubeApiError && err.status === undefined && /deployment sy\/llama: the Kubernetes API server is unreachable/.test(err.message));
  });

  it('writes label selectors as Kubernetes parses them', () => {
    assert.equal(labelSelectorOf({ app: 'llama', 'app.kubernetes.io/part-of': 'sy' }), 'app=llama,app.kubernetes.io/part-of=sy');
  });
});
