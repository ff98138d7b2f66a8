/**
 * TEST DOUBLE — the object store of the test Kubernetes API server (what etcd plus the API server's
 * watch cache are to a real cluster): namespaced objects per resource, one cluster-wide
 * resourceVersion counter, and a bounded window of past events for watches to resume from. A watch
 * from a version older than the window is "too old" (the server answers 410 Gone), as with a real
 * API server whose watch cache moved on (`compact()` forces that).
 */
import { randomUUID } from 'node:crypto';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
    [key: string]: unknown;
  };
  spec?: any;
  status?: any;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  resource: string;
  type: WatchEventType;
  object: KubeObject;
}

/** A parsed label selector: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (all must hold). */
export type Selector = (labels: Record<string, string> | undefined) => boolean;

export function parseLabelSelector(text: string | null | undefined): Selector {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => t.trim()).filter(Boolean).map((term): Selector => {
    let m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
    if (m) return (l) => l?.[m![1]!] !== m![2];
    m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
    if (m) return (l) => l?.[m![1]!] === m![2];
    if (term.startsWith('!')) return (l) => l?.[term.slice(1)] === undefined;
    return (l) => l?.[term] !== undefined;
  });
  return (labels) => terms.every((t) => t(labels));
}

/** Field selectors the way kubectl and informers use them: metadata.name / metadata.namespace equality. */
export function parseFieldSelector(text: string | null | undefined): (obj: KubeObject) => boolean {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => {
    const [field, value] = t.split(/==?/) as [string, string];
    return (obj: KubeObject) => (field === 'metadata.name' ? obj.metadata.name === value : field === 'metadata.namespace' ? obj.metadata.namespace === value : true);
  });
  return (obj) => terms.every((t) => t(obj));
}

export class TooOldError extends Error {}

type Listener = (event: StoreEvent) => void;

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  /** Watches may resume from any version ≥ this one. */
  private oldestResumable = 1;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly historyLimit = 10_000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) this.objects.set(resource, (b = new Map()));
    return b;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    return this.bucket(resource).get(`${namespace}/${name}`);
  }

  list(resource: string, namespace?: string, labels?: Selector, fields?: (o: KubeObject) => boolean): KubeObject[] {
    return [...this.bucket(resource).values()].filter(
      (o) => (namespace === undefined || o.metadata.namespace === namespace) && (!labels || labels(o.metadata.labels)) && (!fields || fields(o)),
    );
  }

  /** Stores a new object (the caller checked it does not exist). */
  create(resource: string, obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    stored.metadata.generation ??= 1;
    return this.commit(resource, 'ADDED', stored);
  }

  /** Replaces an object; `bumpGeneration` when its spec changed. */
  update(resource: string, obj: KubeObject, bumpGeneration = false): KubeObject {
    const stored = structuredClone(obj);
    if (bumpGeneration) stored.metadata.generation = (stored.metadata.generation ?? 1) + 1;
    return this.commit(resource, 'MODIFIED', stored);
  }

  remove(resource: string, namespace: string, name: string): KubeObject | undefined {
    const obj = this.get(resource, namespace, name);
    if (!obj) return undefined;
    return this.commit(resource, 'DELETED', structuredClone(obj));
  }

  private commit(resource: string, type: WatchEventType, obj: KubeObject): KubeObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (type === 'DELETED') this.bucket(resource).delete(key);
    else this.bucket(resource).set(key, obj);
    const event: StoreEvent = { rv: this.rv, resource, type, object: obj };
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestResumable = dropped[dropped.length - 1]!.rv;
    }
    for (const listener of this.listeners) listener(event);
    return structuredClone(obj);
  }

  /** Forgets every past event: a watch from any earlier version now gets 410 Gone and must re-list. */
  compact(): void {
    this.history = [];
    this.oldestResumable = this.rv;
  }

  /**
   * The events after `fromRv` (exclusive) for `resource`; throws TooOldError when some of them are no
   * longer kept.
   */
  since(resource: string, fromRv: number): StoreEvent[] {
    if (fromRv < this.oldestResumable) throw new TooOldError(`too old resource version: ${fromRv} (${this.oldestResumable})`);
    return this.history.filter((e) => e.rv > fromRv && e.resource === resource);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
