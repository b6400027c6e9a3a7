/**
 * CEL rules (`x-kubernetes-validations`) evaluated locally with @bufbuild/cel: it follows cel-spec (its conformance
 * suite), has the macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`), `size`, timestamps and durations,
 * RE2 regular expressions for `matches` (the API server's dialect), and the strings extension the API server enables
 * (`lowerAscii`, `split`, `join`, `replace`, `indexOf`, `substring`, `trim`, `format`, …). Not available locally: the
 * optional syntax (`self.?field`, `optionalOldSelf`) and Kubernetes' own libraries (lists `isSorted`/`sum`, `quantity`,
 * `url`, `ip`, `cidr`, regex `find`); a rule using them is reported as a field error saying it cannot be evaluated here.
 * `duration` strings stay strings (the server makes them durations).
 */
import { createRequire } from 'node:module';
import type * as CelModule from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import type * as CelExt from '@bufbuild/cel/ext';
import type * as ProtobufWkt from '@bufbuild/protobuf/wkt';
import type { JSONSchemaProps } from '../generated/apiextensions-v1.js';

type Program = (ctx: Record<string, CelInput>) => unknown;

/**
 * @bufbuild/cel and @bufbuild/protobuf, loaded (synchronously, their CommonJS builds) at the first rule or timestamp:
 * about 15 MB of a process, which most processes, and every manager without CRD schemas, never need.
 */
interface CelLibrary {
  cel: typeof CelModule;
  timestampFromDate: typeof ProtobufWkt.timestampFromDate;
  env: ReturnType<typeof CelModule.celEnv>;
}
let library: CelLibrary | undefined;
function celLibrary(): CelLibrary {
  if (!library) {
    const require = createRequire(import.meta.url);
    const cel = require('@bufbuild/cel') as typeof CelModule;
    const { strings } = require('@bufbuild/cel/ext') as typeof CelExt;
    const { timestampFromDate } = require('@bufbuild/protobuf/wkt') as typeof ProtobufWkt;
    library = { cel, timestampFromDate, env: cel.celEnv({ funcs: strings }) };
  }
  return library;
}
const programs = new Map<string, Program | Error>();

function compile(rule: string): Program | Error {
  let program = programs.get(rule);
  if (!program) {
    const { cel, env } = celLibrary();
    try {
      program = cel.plan(env, cel.parse(rule)) as Program;
    } catch (err) {
      program = err instanceof Error ? err : new Error(String(err));
    }
    programs.set(rule, program);
  }
  return program;
}

/** True when the rule reads `oldSelf`: a transition rule, checked only on update when there is an old value. */
export function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

/**
 * A JSON value as CEL sees it under `schema`: integers become `int` (bigint), `date-time` and `date` strings
 * timestamps, the rest stays as it is.
 */
export function toCel(schema: JSONSchemaProps | undefined, value: unknown): CelInput {
  if (typeof value === 'string' && (schema?.format === 'date-time' || schema?.format === 'date')) {
    // The API server gives CEL these strings as timestamps (to the millisecond here: a JavaScript Date).
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return celLibrary().timestampFromDate(date);
  }
  if (typeof value === 'number') {
    const integer =
      schema?.type === 'integer' ||
      ((schema?.type === undefined || schema['x-kubernetes-int-or-string']) && Number.isInteger(value));
    return integer && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) {
    const items =
      typeof schema?.items === 'object' && !Array.isArray(schema.items) ? (schema.items as JSONSchemaProps) : undefined;
    return value.map((v) => toCel(items, v));
  }
  if (typeof value === 'object' && value !== null) {
    const extra = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      toCel(schema?.properties?.[k] ?? extra, v),
    ]);
    return Object.fromEntries(entries) as CelInput;
  }
  return value as CelInput;
}

/** The outcome of one rule: true (passed), false (failed), or the reason it could not be evaluated. */
export function evaluateRule(rule: string, self: CelInput, oldSelf: CelInput | undefined): boolean | string {
  const program = compile(rule);
  if (program instanceof Error) return `compilation failed: ${program.message.split('\n')[0] ?? ''}`;
  let result: unknown;
  try {
    result = program(oldSelf === undefined ? { self } : { self, oldSelf });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (celLibrary().cel.isCelError(result)) return result.message;
  if (typeof result !== 'boolean') return `the rule gave ${typeof result}, not a bool`;
  return result;
}
