/**
 * kubeloop's code generators. What ships and runs at users' sites: {@link generateTypesFromCrd}, the engine of
 * `kubeloop generate types --crd`. The generator of the built-in API types (`kubernetes.ts`, `npm run codegen`) is a
 * development tool of kubeloop itself.
 */
export { generateTypesFromCrd, type GenerateTypesFromCrdOptions } from './crd.js';
export { generateDefinitionFromCrd, type GenerateDefinitionFromCrdOptions } from './definition.js';
