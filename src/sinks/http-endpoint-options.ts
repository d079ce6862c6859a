// The endpoint options every HTTP sink takes (URL, headers, timeout, endpoint errors): checked here, once,
// into plain data; http-transport.ts turns that data into the endpoint it posts to.
import { validateHeaderName, validateHeaderValue } from 'node:http';

import { ConfigError } from '../errors/errors';
import { MAX_TIMER_MILLIS } from '../retry/retry-policy';
import { describeValue } from './message-text';

/** The endpoint options every HTTP sink takes, as given (unchecked). */
export interface HttpEndpointInput {
  readonly url?: unknown;
  readonly headers?: unknown;
  readonly timeoutMillis?: unknown;
  readonly endpointErrors?: unknown;
}

/** The endpoint options of an HTTP sink, checked and completed. */
export interface ResolvedHttpEndpointOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeoutMillis: number;
  readonly endpointErrors: EndpointErrors;
}

/**
 * What a response that says the URL is wrong (3xx, 404, 405, 415; gRPC UNIMPLEMENTED) means: `retry`, the
 * endpoint is at fault (a wrong URL, an ingress during a rollout) and the forwarder pauses and retries; or
 * `permanent`, the records are refused for good and dead-lettered.
 */
export type EndpointErrors = 'retry' | 'permanent';

/** The default of the sinks' `endpointErrors` option. */
export const DEFAULT_ENDPOINT_ERRORS: EndpointErrors = 'retry';

/** The default request timeout of the built-in sinks. */
export const DEFAULT_TIMEOUT_MILLIS = 10_000;

/** Headers the sink owns: a user value would corrupt the framing or the keep-alive. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
]);

/** Checks a sink's `endpointErrors` option, throwing a {@link ConfigError} that names `field`. */
export function resolveEndpointErrors(value: unknown, field: string): EndpointErrors {
  const endpointErrors = value ?? DEFAULT_ENDPOINT_ERRORS;
  if (endpointErrors !== 'retry' && endpointErrors !== 'permanent') {
    throw new ConfigError(field, `expected 'retry' or 'permanent', got ${describeValue(endpointErrors)}`);
  }
  return endpointErrors;
}

/** Checks a sink's `timeoutMillis` option, throwing a {@link ConfigError} that names `field`. */
export function resolveTimeoutMillis(value: unknown, field: string): number {
  const timeoutMillis = value ?? DEFAULT_TIMEOUT_MILLIS;
  if (typeof timeoutMillis !== 'number' || !(timeoutMillis > 0 && timeoutMillis <= MAX_TIMER_MILLIS)) {
    throw new ConfigError(
      field,
      `expected a number greater than 0 and at most ${MAX_TIMER_MILLIS}, got ${describeValue(timeoutMillis)}`,
    );
  }
  return timeoutMillis;
}

/** Checks a sink's `compression` option (`none` or `gzip`), throwing a {@link ConfigError} that names `field`. */
export function resolveSinkCompression(value: unknown, field: string): 'none' | 'gzip' {
  const compression = value ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    throw new ConfigError(field, `expected 'none' or 'gzip', got ${describeValue(compression)}`);
  }
  return compression;
}

/**
 * What an options object is, for an error about one that is not: never the value itself, since `headers`
 * written as a string (`'Bearer ...'`) is a likely slip.
 */
export function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

/** The options object a sink factory was given, `{}` when none; anything but an object is a {@link ConfigError}. */
export function optionsObject(options: unknown, prefix: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(prefix, `expected an object, got ${kindOf(options)}`);
  }
  return options as Record<string, unknown>;
}

/**
 * Checks `url`, `headers`, `timeoutMillis` and `endpointErrors`, throwing a {@link ConfigError} that names
 * `${prefix}.<option>`. Neither the URL nor header values are ever echoed in an error: they may hold
 * credentials.
 */
export function resolveHttpEndpointOptions(
  o: HttpEndpointInput,
  prefix: string,
  defaultUrl: string,
): ResolvedHttpEndpointOptions {
  return {
    url: checkHttpUrl(o.url ?? defaultUrl, `${prefix}.url`),
    headers: resolveHeaders(o.headers, `${prefix}.headers`),
    timeoutMillis: resolveTimeoutMillis(o.timeoutMillis, `${prefix}.timeoutMillis`),
    endpointErrors: resolveEndpointErrors(o.endpointErrors, `${prefix}.endpointErrors`),
  };
}

function checkHttpUrl(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ConfigError(field, `expected a string, got ${typeof value}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(field, 'expected an http: or https: URL, got a string that is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(field, `expected an http: or https: URL, got protocol '${url.protocol}'`);
  }
  return value;
}

/** Checks `headers` as the sink does (a {@link ConfigError} naming `${field}.<name>`); values are never shown. */
export function resolveHeaders(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, `expected an object of header names to string values, got ${kindOf(value)}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    // Header values never go into messages; only their type does.
    if (typeof headerValue !== 'string')
      throw new ConfigError(`${field}.${name}`, `expected a string, got ${typeof headerValue}`);
    try {
      validateHeaderName(name);
    } catch {
      throw new ConfigError(`${field}.${name}`, 'not a valid HTTP header name');
    }
    try {
      validateHeaderValue(name, headerValue);
    } catch {
      throw new ConfigError(`${field}.${name}`, 'the value has characters not allowed in an HTTP header');
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new ConfigError(`${field}.${name}`, 'this header is set by the sink and cannot be overridden');
    }
    headers[name] = headerValue;
  }
  return headers;
}
