import type { KubeObject, Status } from '../client/index.js';

/** authentication.k8s.io/v1 UserInfo: who made the request the API server is admitting. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The operation an admission request is about. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** admission.k8s.io/v1 AdmissionRequest. `object` and `oldObject` are the objects as JSON, in the version asked for. */
export interface AdmissionRequest<T extends KubeObject = KubeObject> {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  requestKind?: { group: string; version: string; kind: string };
  requestResource?: { group: string; version: string; resource: string };
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  /** The new object; absent on DELETE. */
  object?: T;
  /** The existing object on UPDATE and DELETE. */
  oldObject?: T;
  /** True for a server-side dry run: a handler with side effects must not make them. */
  dryRun?: boolean;
  /** The operation's options (CreateOptions, UpdateOptions, DeleteOptions), as JSON. */
  options?: Record<string, unknown>;
}

/** admission.k8s.io/v1 AdmissionResponse. */
export interface AdmissionResponse {
  /** Must equal the request's uid; the server fills it in when a handler leaves it out. */
  uid?: string;
  allowed: boolean;
  /** Why a request was denied: shown to the user (message, reason, code, details.causes). */
  status?: Status;
  /** Base64 of a JSON patch (RFC 6902); only mutating webhooks may send one. */
  patch?: string;
  patchType?: 'JSONPatch';
  auditAnnotations?: Record<string, string>;
  /** Shown by kubectl as `Warning: …`; each at most 120 characters is best. */
  warnings?: string[];
}

/** admission.k8s.io/v1 AdmissionReview: the request the API server POSTs, and the answer. */
export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** apiextensions.k8s.io/v1 ConversionRequest. */
export interface ConversionRequest {
  uid: string;
  /** `group/version` every object must be converted to. */
  desiredAPIVersion: string;
  objects: KubeObject[];
}

/** apiextensions.k8s.io/v1 ConversionResponse. */
export interface ConversionResponse {
  uid: string;
  convertedObjects: KubeObject[];
  result: Status;
}

/** apiextensions.k8s.io/v1 ConversionReview. */
export interface ConversionReview {
  apiVersion: string;
  kind: 'ConversionReview';
  request?: ConversionRequest;
  response?: ConversionResponse;
}

/** Warnings for kubectl to show, from a validator. */
export type Warnings = string[];
