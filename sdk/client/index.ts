/**
 * kubeloop/client: the bottom Kubernetes layer. Configuration (kubeconfig, in-cluster), authentication, the undici
 * transport, the RESTClient, watches, the DynamicClient, the DiscoveryClient and RESTMapper, errors, resource
 * descriptors and the API types.
 */
export {
  KubeloopError,
  ConfigError,
  ApiError,
  TransportError,
  WatchStalledError,
  ResponseDecodeError,
  ResponseTooLargeError,
  ArgumentError,
  ArgumentRangeError,
  AlreadyStartedError,
  isKubeloopError,
  hasErrorCode,
  isNotFound,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isForbidden,
  isUnauthorized,
  isGone,
  isTooManyRequests,
  isTimeout,
  ignoreNotFound,
  StreamError,
  type StreamErrorCode,
  type KubeloopErrorOptions,
  type RequestInfo,
} from './errors.js';
export { errorCodes, type ErrorCode } from './error-codes.js';
export type { RestConfig, ExecConfig, ImpersonationConfig } from './config/types.js';
export { defaultMaxResponseBytes, defaultPingIntervalMs } from './config/types.js';
export {
  loadConfig,
  loadClientConfig,
  buildConfigFromFlags,
  type LoadConfigOptions,
  type ImpersonateOverride,
  type ClientConfig,
} from './config/load.js';
export { inClusterConfig, inClusterNamespace, type InClusterOptions } from './config/in-cluster.js';
export {
  loadKubeconfig,
  parseKubeconfig,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigExec,
  type KubeconfigPreferences,
  type KubeconfigUser,
  type NamedCluster,
  type NamedContext,
  type NamedExtension,
  type NamedUser,
  type ParseKubeconfigOptions,
} from './config/kubeconfig.js';
export { ExecCredentialError, execPluginHealth, type ExecPluginHealth } from './auth/exec.js';

export type {
  TypeMeta,
  ObjectMeta,
  ListMeta,
  OwnerReference,
  ManagedFieldsEntry,
  KubeObject,
  KubeList,
  Unstructured,
  Status,
  StatusCause,
  StatusDetails,
  PartialObjectMetadata,
  GroupVersion,
  GroupVersionKind,
  GroupVersionResource,
  WatchEvent,
  WatchEventType,
} from './meta/types.js';
export { parseGroupVersion, formatGroupVersion, objectKey, splitObjectKey } from './meta/group-version.js';
export { jsonEqual } from './meta/json.js';
export { formatMicroTime, isMicroTime } from './meta/micro-time.js';
export type { Logger } from './meta/logger.js';
export {
  parseFieldSelector,
  fieldSelectorFromSet,
  escapeFieldSelectorValue,
  everythingFields,
  InvalidSelectorError,
  type FieldSelector,
  type FieldSelectorOperator,
  type FieldSelectorTerm,
} from './meta/field-selector.js';
export {
  parseQuantity,
  canonicalQuantity,
  compareQuantities,
  addQuantities,
  subtractQuantities,
  QuantityError,
  type QuantityValue,
  type QuantityFormat,
} from './meta/quantity.js';
export {
  defineResource,
  gvrOf,
  type ResourceDescriptor,
  type ObjectOf,
  type CustomObject,
  type DefineResourceOptions,
} from './meta/descriptor.js';
export {
  s,
  type SchemaNode,
  type Infer,
  type InferProperties,
  type SchemaProperties,
  type CelRule,
  type CommonOptions,
  type StringOptions,
  type NumberOptions,
  type ArrayOptions,
  type MapOptions,
  type ObjectOptions,
} from './schema/builder.js';
export {
  defineCustomResource,
  type CustomResource,
  type DefineCustomResourceOptions,
  type SpecOf,
  type StatusOf,
} from './schema/resource.js';
export {
  validateObject,
  formatFieldError,
  schemaOf,
  type FieldError,
  type FieldErrorType,
  type SchemaCarrier,
} from './schema/validate.js';

export type {
  RequestOptions,
  GetOptions,
  ListOptions,
  WatchOptions,
  WriteOptions,
  CreateOptions,
  UpdateOptions,
  PatchType,
  PatchOptions,
  ApplyOptions,
  DeleteOptions,
  DeleteCollectionOptions,
  DryRun,
  JsonPatchOperation,
  DeepPartial,
  ApplyConfiguration,
  PatchBody,
} from './rest/options.js';
export type {
  Watch,
  ResourceInterface,
  NamespaceableResourceInterface,
  SubresourceOptions,
} from './rest/resource-interface.js';
export {
  RestClient,
  Request,
  Result,
  restClientFor,
  type RestClientOptions,
  type DoOptions,
  type WatchRequestOptions,
} from './rest/rest-client.js';
export {
  createResourceClientFactory,
  listAllPages,
  typedClient,
  type ResourceClientFactory,
  type ResourceLocation,
} from './rest/resource.js';
export { createDynamicClient, type DynamicClient } from './dynamic/dynamic-client.js';
export { defaultWarningHandler } from './transport/transport.js';
export { closeAllConnections } from './transport/dispatchers.js';
export { defaultUserAgent } from './transport/user-agent.js';
export {
  createDiscoveryClient,
  type DiscoveryClient,
  type DiscoveryClientOptions,
  type DiscoveryCallOptions,
} from './discovery/discovery-client.js';
export {
  createRESTMapper,
  type RESTMapper,
  type RESTMapping,
  type GroupKindQuery,
  type ResourceQuery,
} from './discovery/rest-mapper.js';
export {
  GroupDiscoveryFailedError,
  StaleGroupVersionError,
  NoMatchError,
  AmbiguousMatchError,
  isGroupDiscoveryFailed,
  isNoMatch,
  isAmbiguousMatch,
  type MappingQuery,
} from './discovery/errors.js';
export type {
  VersionInfo,
  APIVersions,
  APIGroup,
  APIGroupList,
  GroupVersionForDiscovery,
  ServerAddressByClientCIDR,
  APIResource,
  APIResourceList,
  ResourceScope,
  DiscoveryGroupVersionKind,
  DiscoveryFreshness,
  APIGroupDiscoveryList,
  APIGroupDiscovery,
  APIVersionDiscovery,
  APIResourceDiscovery,
  APISubresourceDiscovery,
} from './discovery/types.js';

// Generated API types and descriptors: a namespace per group-version (corev1, appsv1, …) and flat names for kinds
// unique among the stable group-versions (Pod, Deployment, …), each both a type and a resource descriptor.
export * from './generated/index.js';
export { createClientset, createClientsetFromFactory, type Clientset } from './clientset.js';
export type { GetLogsOptions, ResourceClient, StatusMethods, Verb } from './typed.js';
export type {
  AttachOptions,
  AttachStreamOptions,
  CopyFromPodOptions,
  CopyFromPodResult,
  CopyToPodOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
  ForwardedPort,
  PortForward,
  PortForwardOptions,
  PortForwardStream,
  PortForwardStreamOptions,
  RemoteCommandOptions,
  StreamLogsOptions,
  TerminalSize,
} from './streaming/types.js';
export {
  generateTypesFromCrd,
  generateDefinitionFromCrd,
  type GenerateTypesFromCrdOptions,
  type GenerateDefinitionFromCrdOptions,
} from './codegen/index.js';
