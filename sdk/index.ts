/**
 * kubeloop: the names a first operator needs, re-exported from the packages that own them. Everything else is in
 * `kubeloop/client`, `kubeloop/cache`, `kubeloop/workqueue`, `kubeloop/leaderelection`, `kubeloop/manager`,
 * `kubeloop/envtest` and `kubeloop/testing`.
 *
 * ```ts
 * import 'reflect-metadata';
 * import { createManager, setupSignalHandler, Reconciler, inject, CLIENT, type Client } from 'kubeloop';
 * ```
 */
export {
  // running an operator
  createManager,
  setupSignalHandler,
  controllerFor,
  // writing a reconciler
  Reconciler,
  inject,
  createToken,
  TerminalError,
  CLIENT,
  CLIENTSET,
  EVENT_RECORDER,
  LOGGER,
  // filtering and mapping events
  generationChanged,
  enqueueRequestForOwner,
  enqueueRequestsFromMapFunc,
  // the everyday helpers
  createOrUpdate,
  setControllerReference,
  addFinalizer,
  removeFinalizer,
  containsFinalizer,
  setStatusCondition,
  type Client,
  type InjectionToken,
  type EventRecorder,
  type Manager,
  type ManagerOptions,
  type ReconcileRequest,
  type ReconcileResult,
  type ReconcileContext,
} from './manager/index.js';
export {
  defineResource,
  isNotFound,
  isConflict,
  ignoreNotFound,
  loadConfig,
  KubeloopError,
  ConfigError,
  isKubeloopError,
  type RestConfig,
  type KubeObject,
  type CustomObject,
  type ResourceDescriptor,
} from './client/index.js';
