import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

  it('writes label selectors as Kubernetes parses them', () => {
    assert.equal(labelSelectorOf({ app: 'llama', 'app.kubernetes.io/part-of': 'sy' }), 'app=llama,app.kubernetes.io/part-of=sy');
  });
});
