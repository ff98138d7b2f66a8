/**
 * Where a pool's pods come from. A provider owns the pods of the pools it is given: it starts or
 * discovers them, reports every change of a pool's pod list, and scales a pool when asked. FleetService
 * keeps the pods from those reports; nothing else talks to a provider.
 *
 * Implementations: `local` (runs a command per replica on this machine, restarts it when it dies, as a
 * Deployment would), `static` (fixed URLs), `kubernetes` (watches the pool's pods: a pod is reported
 * once Ready, reported `draining` while Terminating — deletionTimestamp set: it finishes what it has
 * and takes nothing new — and left out of the list once deleted; `scale` writes the Deployment's
 * scale subresource).
 *
 * Reports are level-based: each is the pool's complete current list, so a provider that lost track of
 * changes (a watch that expired and re-listed) simply reports again. FleetService diffs by pod id.
 */
import type { PoolConfig, RuntimeKind } from '../config/index.js';

export type FleetProviderKind = PoolConfig['provider'];

/** A pool as the fleet needs it: which provider runs it, with what, and how many replicas. */
export interface FleetPool {
  name: string;
  runtime: RuntimeKind;
  provider: FleetProviderKind;
  servedModel: string;
  replicas: number;
  template: Pick<PoolConfig, 'sim' | 'local' | 'endpoints' | 'kubernetes'>;
}

/** `ready`: in rotation. `draining`: still running (its in-flight requests finish), sent nothing new. */
export type PodPhase = 'ready' | 'draining';

export interface PodEndpoint {
  /** Unique within the pool and stable for the pod's life (Kubernetes: the pod's name). */
  id: string;
  /** e.g. http://10.1.2.3:8000. A pod whose URL changes is a new pod. */
  baseUrl: string;
  phase: PodPhase;
}

/** A pool's replica counts as its provider knows them (Kubernetes: the Deployment's spec and status). */
export interface WorkloadReplicas {
  desired: number;
  current: number;
  ready: number;
  /**
   * An operator paused the gateway's autoscaler for this workload (Kubernetes: the Deployment carries
   * the annotation `switchyard.io/autoscaling: paused`); the autoscaler then leaves the count alone.
   */
  autoscalingPaused?: boolean;
}

/** The Deployment annotation (and its value) with which an operator takes a pool off the autoscaler. */
export const AUTOSCALING_ANNOTATION = 'switchyard.io/autoscaling';
export const AUTOSCALING_PAUSED = 'paused';

export type PodListListener = (pool: string, pods: readonly PodEndpoint[]) => void;

export interface FleetProvider {
  readonly kind: FleetProviderKind;
  /** Subscribes to pod-list reports; register before `start`. */
  onChange(listener: PodListListener): void;
  /**
   * Takes charge of `pools`. Resolves once each pool's initial pods are known (local: the replicas
   * answer their health check); rejects when they cannot be, and then leaves nothing running.
   */
  start(pools: readonly FleetPool[]): Promise<void>;
  /** Sets a pool's desired replica count. Resolves when the change is under way, not when pods are Ready. */
  scale(pool: string, replicas: number): Promise<void>;
  /** The pool's desired, current and ready replicas; undefined when the provider does not manage a count. */
  replicas?(pool: string): Promise<WorkloadReplicas | undefined>;
  /**
   * Stops taking charge of one pool (deleted or changed at run time): no more reports for it. Its pods
   * are the fleet's to drain. Absent for `local`, whose pools are config-only.
   */
  release?(pool: string): Promise<void>;
  /** Stops taking charge; the local provider stops its processes (after the HTTP server drained). */
  stop(): Promise<void>;
}

/** Nest token for the list of providers FleetService uses (one per kind). */
export const FLEET_PROVIDERS = Symbol('FLEET_PROVIDERS');
