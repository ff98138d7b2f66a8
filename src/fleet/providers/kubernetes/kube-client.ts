/**
 * Everything the kubernetes provider asks of the API server, behind one small class over
 * @kubernetes/client-node: pod informers, a Deployment's `scale` subresource, InferencePools. Errors
 * from the API become KubeApiError (HTTP status + the Status object's message), so callers can tell
 * "not found" from "unreachable".
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { AUTOSCALING_ANNOTATION, AUTOSCALING_PAUSED, type WorkloadReplicas } from '../../fleet-provider.js';

export const INFERENCE_GROUP = 'inference.networking.k8s.io';
export const INFERENCE_VERSION = 'v1';

/** An InferencePool as far as discovery needs it (inference.networking.k8s.io/v1). */
export interface InferencePoolObject extends KubernetesObject {
  spec?: { selector?: { matchLabels?: Record<string, string> }; targetPorts?: Array<{ number?: number }> };
}

export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status from the API server; undefined when it was not reached. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Watches ask for bookmarks (the informer's resourceVersion then stays recent even when nothing in the
 * pool changes, so a reconnect rarely meets 410 Gone) and for a server-side timeout, spread so that
 * replicas' watches do not all end together.
 */
class BookmarkWatch extends Watch {
  override watch(path: string, params: Record<string, unknown>, cb: (phase: string, obj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    return super.watch(path, { ...params, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120) }, cb, done);
  }
}

export class KubeClient {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(private readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
  }

  /** From a kubeconfig file, or the in-cluster service account (token, CA, KUBERNETES_SERVICE_HOST). */
  static load(kubeconfig: string | undefined): KubeClient {
    const config = new KubeConfig();
    if (kubeconfig) config.loadFromFile(kubeconfig);
    else {
      config.loadFromCluster();
      // Outside a pod the in-cluster address is built from unset variables.
      if (/undefined/.test(config.getCurrentCluster()?.server ?? 'undefined')) {
        throw new KubeApiError('kubernetes pools need SWITCHYARD_KUBECONFIG, or the gateway must run in a Kubernetes pod (service account)');
      }
    }
    return new KubeClient(config);
  }

  get server(): string {
    return this.config.getCurrentCluster()?.server ?? '(none)';
  }

  /** An informer (list, then watch from its resourceVersion) over the pods matching `selector`; not started. */
  podInformer(namespace: string, selector: Record<string, string>): ListWatch<V1Pod> {
    const labelSelector = labelSelectorOf(selector);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    return new ListWatch<V1Pod>(path, new BookmarkWatch(this.config), () => this.core.listNamespacedPod({ namespace, labelSelector }), false, labelSelector);
  }

  /** An informer over one InferencePool (field selector on its name); not started. */
  inferencePoolInformer(namespace: string, name: string): ListWatch<InferencePoolObject> {
    const path = `/apis/${INFERENCE_GROUP}/${INFERENCE_VERSION}/namespaces/${encodeURIComponent(namespace)}/inferencepools`;
    const fieldSelector = `metadata.name=${name}`;
    const list = () =>
      this.custom.listNamespacedCustomObject({ group: INFERENCE_GROUP, version: INFERENCE_VERSION, namespace, plural: 'inferencepools', fieldSelector }) as Promise<{
        metadata?: { resourceVersion?: string };
        items: InferencePoolObject[];
      }>;
    return new ListWatch<InferencePoolObject>(path, new BookmarkWatch(this.config), list as never, false, undefined, fieldSelector);
  }

  async getInferencePool(namespace: string, name: string): Promise<InferencePoolObject> {
    return call(`InferencePool ${namespace}/${name}`, () =>
      this.custom.getNamespacedCustomObject({ group: INFERENCE_GROUP, version: INFERENCE_VERSION, namespace, plural: 'inferencepools', name }) as Promise<InferencePoolObject>,
    );
  }

  /** The Deployment's scale subresource: desired replicas (spec) and current ones (status). */
  async getScale(namespace: string, deployment: string): Promise<{ desired: number; current: number }> {
    const scale = await call(`deployment ${namespace}/${deployment}`, () => this.apps.readNamespacedDeploymentScale({ name: deployment, namespace }));
    return { desired: scale.spec?.replicas ?? 0, current: scale.status?.replicas ?? 0 };
  }

  /** The Deployment's status counts (ready replicas is not in the Scale object). */
  async getDeploymentStatus(namespace: string, deployment: string): Promise<WorkloadReplicas> {
    const d = await call(`deployment ${namespace}/${deployment}`, () => this.apps.readNamespacedDeployment({ name: deployment, namespace }));
    const autoscalingPaused = d.metadata?.annotations?.[AUTOSCALING_ANNOTATION] === AUTOSCALING_PAUSED;
    return { desired: d.spec?.replicas ?? 1, current: d.status?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0, autoscalingPaused };
  }

  /** Writes spec.replicas through the scale subresource (a merge patch, as `kubectl scale` sends). */
  async setScale(namespace: string, deployment: string, replicas: number): Promise<void> {
    await call(`deployment ${namespace}/${deployment}`, () =>
      this.apps.patchNamespacedDeploymentScale({ name: deployment, namespace, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }
}

export function labelSelectorOf(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** A single API call (not a watch) that has not answered by then fails, so an admin call cannot hang on it. */
const CALL_TIMEOUT_MS = 10_000;

/** Runs an API call, turning client-node's errors into KubeApiError with the Status message. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KubeApiError(`${what}: the Kubernetes API server did not answer within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([fn(), timeout]);
  } catch (err) {
    if (err instanceof KubeApiError) throw err;
    const e = err as { code?: number; body?: unknown; message?: string; cause?: { message?: string } };
    if (typeof e.code === 'number' && e.code >= 100) {
      let message = e.message ?? String(err);
      try {
        const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
        if (body && typeof (body as { message?: unknown }).message === 'string') message = (body as { message: string }).message;
      } catch {
        // not a Status object: keep the client's message
      }
      throw new KubeApiError(`${what}: ${message}`, e.code);
    }
    throw new KubeApiError(`${what}: the Kubernetes API server is unreachable (${e.cause?.message ?? e.message ?? String(err)})`);
  } finally {
    clearTimeout(timer);
  }
}
