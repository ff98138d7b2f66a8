/**
 * TEST DOUBLE — a Kubernetes API server over plain node:http, enough of the real API for
 * @kubernetes/client-node and the real kubectl (1.35): discovery (/api and /apis as aggregated
 * APIGroupDiscoveryList documents when asked, as kubectl does, else APIVersions / APIGroupList, and the
 * per-group resource lists), namespaced Pods (get, list, watch with resourceVersion, bookmarks and 410 for expired
 * versions, graceful delete), apps/v1 Deployments with the `scale` subresource (get, put, merge and
 * strategic-merge patch), and the Gateway API Inference Extension's InferencePools. No authentication.
 * Errors are `Status` objects with the real reasons (NotFound, AlreadyExists, Conflict, Invalid).
 *
 * The HTTP side can be stopped and started again on the same port while the store (etcd) and the
 * kubelet keep going, which is what an API server restart looks like to its clients.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ObjectStore, TooOldError, parseFieldSelector, parseLabelSelector, type KubeObject, type StoreEvent } from './store.js';

export interface KubeApiServerOptions {
  /** How often a watch that asked for bookmarks gets one (a real API server: about a minute). */
  bookmarkIntervalMs?: number;
}

interface ResourceDef {
  group: string; // '' = core
  version: string;
  plural: string;
  kind: string;
  listKind: string;
  shortNames?: string[];
  verbs: string[];
}

const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', listKind: 'PodList', shortNames: ['po'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', listKind: 'DeploymentList', shortNames: ['deploy'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: 'inference.networking.k8s.io', version: 'v1', plural: 'inferencepools', kind: 'InferencePool', listKind: 'InferencePoolList', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
];

const apiVersionOf = (r: ResourceDef) => (r.group ? `${r.group}/${r.version}` : r.version);

export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function status(err: HttpError) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, details: err.details, code: err.code };
}

function notFound(r: ResourceDef, name: string): HttpError {
  const group = r.group ? `.${r.group}` : '';
  return new HttpError(404, 'NotFound', `${r.plural}${group} "${name}" not found`, { name, group: r.group || undefined, kind: r.plural });
}

/** JSON merge patch (RFC 7386); strategic merge patch is the same for the fields this server serves. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function selectorString(matchLabels: Record<string, string> | undefined): string {
  return Object.entries(matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

export class KubeApiServer {
  readonly store: ObjectStore;
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly bookmarkIntervalMs: number;
  private portNumber = 0;
  /** Requests served, by method and path without the query (the bench and tests read it). */
  readonly requests: string[] = [];
  recordRequests = false;

  constructor(store = new ObjectStore(), opts: KubeApiServerOptions = {}) {
    this.store = store;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 1_000;
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** Listens (on the previous port when restarted). */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops answering and cuts every open connection (watches included), as a crashed API server would. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.recordRequests) this.requests.push(`${req.method} ${url.pathname}`);
    try {
      const body = await readBody(req);
      this.route(req.method ?? 'GET', url, req.headers['content-type'] ?? '', body, res, req.headers.accept ?? '');
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', (err as Error).message);
      if (!res.headersSent) send(res, e.code, status(e));
      else res.end();
    }
  }

  private route(method: string, url: URL, contentType: string, body: string, res: http.ServerResponse, accept = ''): void {
    const path = url.pathname.replace(/\/+$/, '');
    if (method === 'GET') {
      // kubectl asks for aggregated discovery (one document per root instead of one per group version).
      if ((path === '/api' || path === '/apis') && accept.includes('as=APIGroupDiscoveryList')) return this.aggregatedDiscovery(path === '/api' ? '' : undefined, res);
      if (path === '/version') return send(res, 200, { major: '1', minor: '35', gitVersion: 'v1.35.0-switchyard-test', platform: 'linux/amd64' });
      if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] });
      if (path === '/apis') return send(res, 200, this.groupList());
      if (path === '/api/v1') return send(res, 200, this.resourceList('', 'v1'));
      const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
      if (groupVersion) return send(res, 200, this.resourceList(groupVersion[1]!, groupVersion[2]!));
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
    const [, coreVersion, group = '', groupVersion, namespace, plural, name, sub] = m;
    const version = coreVersion ?? groupVersion!;
    const def = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!def) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
    const q = url.searchParams;
    if (!name) {
      if (method === 'GET' && q.get('watch') === 'true') return this.watch(def, namespace!, q, res);
      if (method === 'GET') return this.list(def, namespace!, q, res);
      if (method === 'POST') return send(res, 201, this.create(def, namespace!, parseJson(body)));
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on ${plural}`);
    }
    if (sub === 'scale' && def.plural === 'deployments') return this.scale(def, method, namespace!, name, contentType, body, res);
    if (sub) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
    switch (method) {
      case 'GET':
        return send(res, 200, this.getOr404(def, namespace!, name));
      case 'PUT':
        return send(res, 200, this.replace(def, namespace!, name, parseJson(body)));
      case 'PATCH':
        return send(res, 200, this.patch(def, namespace!, name, contentType, parseJson(body)));
      case 'DELETE':
        return send(res, 200, this.delete(def, namespace!, name, body ? parseJson(body) : {}));
      default:
        throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  private groupList() {
    const groups = new Map<string, string>();
    for (const r of RESOURCES) if (r.group) groups.set(r.group, r.version);
    groups.set('autoscaling', 'v1');
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, version]) => ({
        name,
        versions: [{ groupVersion: `${name}/${version}`, version }],
        preferredVersion: { groupVersion: `${name}/${version}`, version },
      })),
    };
  }

  /** apidiscovery.k8s.io/v2 APIGroupDiscoveryList: the core group for /api, every named group for /apis. */
  private aggregatedDiscovery(core: '' | undefined, res: http.ServerResponse): void {
    const groups = new Map<string, ResourceDef[]>();
    for (const r of RESOURCES) if ((core === '' ? r.group === '' : r.group !== '')) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
    const items = [...groups].map(([group, defs]) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: [
        {
          version: defs[0]!.version,
          freshness: 'Current',
          resources: defs.map((r) => ({
            resource: r.plural,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            scope: 'Namespaced',
            singularResource: r.kind.toLowerCase(),
            verbs: r.verbs,
            ...(r.shortNames ? { shortNames: r.shortNames } : {}),
            ...(r.plural === 'deployments' ? { subresources: [{ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] }] } : {}),
          })),
        },
      ],
    }));
    const text = JSON.stringify({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items });
    res.writeHead(200, { 'content-type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private resourceList(group: string, version: string) {
    const resources: unknown[] = [];
    for (const r of RESOURCES.filter((r) => r.group === group && r.version === version)) {
      resources.push({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: true, kind: r.kind, verbs: r.verbs, shortNames: r.shortNames });
      if (r.plural === 'deployments') {
        resources.push({ name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      }
    }
    if (resources.length === 0 && !(group === 'autoscaling' && version === 'v1')) throw new HttpError(404, 'NotFound', `the server could not find the requested resource`);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private getOr404(def: ResourceDef, namespace: string, name: string): KubeObject {
    const obj = this.store.get(def.plural, namespace, name);
    if (!obj) throw notFound(def, name);
    return withKind(def, obj);
  }

  private list(def: ResourceDef, namespace: string, q: URLSearchParams, res: http.ServerResponse): void {
    const items = this.store.list(def.plural, namespace, parseLabelSelector(q.get('labelSelector')), parseFieldSelector(q.get('fieldSelector')));
    send(res, 200, { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.store.resourceVersion }, items: items.map((o) => withKind(def, o)) });
  }

  /**
   * A watch: events as JSON lines. Without a resourceVersion (or "0") the current objects come first as
   * ADDED; from a version still in the window, the events after it; from an older one, an ERROR event
   * carrying a 410 Expired Status, then the end of the stream (what a real API server sends).
   */
  private watch(def: ResourceDef, namespace: string, q: URLSearchParams, res: http.ServerResponse): void {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    const matches = (o: KubeObject) => o.metadata.namespace === namespace && labels(o.metadata.labels) && fields(o);
    const rvParam = q.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    let initial: StoreEvent[];
    if (!rvParam || rvParam === '0') {
      initial = this.store.list(def.plural, namespace, labels, fields).map((object) => ({ rv: 0, resource: def.plural, type: 'ADDED' as const, object }));
    } else {
      try {
        initial = this.store.since(def.plural, Number(rvParam)).filter((e) => matches(e.object));
      } catch (err) {
        if (!(err instanceof TooOldError)) throw err;
        write('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Expired', code: 410 });
        res.end();
        return;
      }
    }
    for (const e of initial) write(e.type, withKind(def, e.object));
    const unsubscribe = this.store.subscribe((e) => {
      if (e.resource === def.plural && matches(e.object)) write(e.type, withKind(def, e.object));
    });
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true') {
      timers.push(setInterval(() => write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.store.resourceVersion } }), this.bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    const done = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
    };
    res.once('close', done);
  }

  private create(def: ResourceDef, namespace: string, obj: KubeObject): KubeObject {
    if (!obj?.metadata?.name) throw new HttpError(422, 'Invalid', `${def.kind} is invalid: metadata.name: Required value`);
    if (this.store.get(def.plural, namespace, obj.metadata.name)) {
      throw new HttpError(409, 'AlreadyExists', `${def.plural} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, kind: def.plural });
    }
    obj.metadata.namespace = namespace;
    if (def.plural === 'deployments') obj.status ??= { replicas: 0, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0, observedGeneration: 0 };
    return withKind(def, this.store.create(def.plural, obj));
  }

  private replace(def: ResourceDef, namespace: string, name: string, obj: KubeObject): KubeObject {
    const current = this.getOr404(def, namespace, name);
    checkVersion(def, name, current, obj.metadata?.resourceVersion);
    const next = { ...obj, metadata: { ...current.metadata, ...obj.metadata, namespace, name }, status: current.status };
    return withKind(def, this.store.update(def.plural, next, JSON.stringify(current.spec) !== JSON.stringify(obj.spec)));
  }

  private patch(def: ResourceDef, namespace: string, name: string, contentType: string, patch: any): KubeObject {
    const current = this.getOr404(def, namespace, name);
    assertMergePatch(contentType);
    const next = mergePatch(current, patch) as KubeObject;
    next.metadata = { ...next.metadata, name, namespace };
    return withKind(def, this.store.update(def.plural, next, JSON.stringify(current.spec) !== JSON.stringify(next.spec)));
  }

  /**
   * Deployments and InferencePools go at once. Pods are deleted gracefully: deletionTimestamp is set
   * and the kubelet stops the container, then removes the object; `gracePeriodSeconds: 0` removes it
   * at once (a force delete).
   */
  private delete(def: ResourceDef, namespace: string, name: string, options: { gracePeriodSeconds?: number }): KubeObject {
    const current = this.getOr404(def, namespace, name);
    if (def.plural !== 'pods' || options.gracePeriodSeconds === 0) return withKind(def, this.store.remove(def.plural, namespace, name)!);
    if (current.metadata.deletionTimestamp) return current;
    return withKind(def, markTerminating(this.store, current, options.gracePeriodSeconds ?? current.spec?.terminationGracePeriodSeconds ?? 30));
  }

  private scale(def: ResourceDef, method: string, namespace: string, name: string, contentType: string, body: string, res: http.ServerResponse): void {
    const deployment = this.getOr404(def, namespace, name);
    const view = (d: KubeObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
      spec: { replicas: d.spec?.replicas ?? 1 },
      status: { replicas: d.status?.replicas ?? 0, selector: selectorString(d.spec?.selector?.matchLabels) },
    });
    if (method === 'GET') return send(res, 200, view(deployment));
    let replicas: unknown;
    if (method === 'PUT') {
      const scale = parseJson(body);
      checkVersion(def, name, deployment, scale?.metadata?.resourceVersion);
      replicas = scale?.spec?.replicas;
    } else if (method === 'PATCH') {
      assertMergePatch(contentType);
      replicas = mergePatch(view(deployment), parseJson(body)).spec?.replicas;
    } else {
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on deployments/scale`);
    }
    if (!Number.isInteger(replicas) || (replicas as number) < 0) {
      throw new HttpError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
    }
    const updated = deployment.spec.replicas === replicas ? deployment : this.store.update(def.plural, { ...deployment, spec: { ...deployment.spec, replicas } }, true);
    send(res, 200, view(updated));
  }
}

/** Sets a pod's deletionTimestamp (graceful deletion); the kubelet does the rest. */
export function markTerminating(store: ObjectStore, pod: KubeObject, graceSeconds: number): KubeObject {
  const next = structuredClone(pod);
  next.metadata.deletionTimestamp = new Date(Date.now() + graceSeconds * 1000).toISOString();
  next.metadata.deletionGracePeriodSeconds = graceSeconds;
  return store.update('pods', next);
}

function checkVersion(def: ResourceDef, name: string, current: KubeObject, rv: string | undefined): void {
  if (rv && rv !== current.metadata.resourceVersion) {
    throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${def.plural}.${def.group || 'core'} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
      name,
      kind: def.plural,
    });
  }
}

function assertMergePatch(contentType: string): void {
  if (!/^application\/(merge-patch|strategic-merge-patch)\+json/.test(contentType)) {
    throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || 'none'})`);
  }
}

function withKind(def: ResourceDef, obj: KubeObject): KubeObject {
  return { apiVersion: apiVersionOf(def), kind: def.kind, ...obj };
}

function parseJson(body: string): any {
  try {
    return JSON.parse(body || 'null');
  } catch {
    throw new HttpError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function send(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
