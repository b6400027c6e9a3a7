import type { ReconcileRequest } from './reconcile.js';
import type { CreateEvent, DeleteEvent, GenericEvent, UpdateEvent } from './predicates.js';

/** Where an event handler puts reconcile requests: de-duplicated by `namespace/name`. */
export interface RequestQueue {
  add(request: ReconcileRequest): void;
}

/**
 * Turns events of a watched resource into reconcile requests (controller-runtime's handler.EventHandler). Each
 * method is optional; a missing one enqueues nothing.
 */
export interface EventHandler {
  create?(event: CreateEvent, queue: RequestQueue): void;
  update?(event: UpdateEvent, queue: RequestQueue): void;
  delete?(event: DeleteEvent, queue: RequestQueue): void;
  generic?(event: GenericEvent, queue: RequestQueue): void;
}
