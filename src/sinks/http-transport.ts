// The HTTP side every HTTP sink shares: endpoint options (URL, headers, timeout) checked into settings, a
// keep-alive POST that is timed, abortable and never traced, and the classification of a response status
// into the SinkError the forwarder acts on. Sinks own their bodies and what a 2xx body means.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

import { SinkError } from '../errors/errors';
import { abortError } from '../retry/sleep';
import { VERSION } from '../version';
import type { EndpointErrors, ResolvedHttpEndpointOptions } from './http-endpoint-options';
import { excerpt, MIN_REDACTED_LENGTH, redact } from './message-text';

/** Checked endpoint settings. */
export interface HttpEndpoint {
  readonly url: URL;
  /** The URL for messages: no credentials, no query. */
  readonly displayUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  /** User header values and the URL password, to blank out of any message. */
  readonly secrets: readonly string[];
  /** Whether a response saying the URL is wrong is retried. */
  readonly endpointErrors: EndpointErrors;
  /** What messages about a wrong URL suggest, e.g. `the OTLP/HTTP traces path is /v1/traces`. */
  readonly urlHint: string;
}

/** A complete response: status, headers and (up to 64 KiB of) the body. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Headers of one POST that the sink, not the user, decides. */
export interface HttpPostHeaders {
  readonly contentType: string;
  readonly contentEncoding?: string;
}

/** Extracts the server's own message from an error body, or undefined to show the body as text. */
export type ErrorBodyReader = (body: Buffer, contentType: string | undefined) => string | undefined;

const MAX_SOCKETS = 8;
/** Bytes of a response body kept; the rest is read and dropped so the connection stays reusable. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = `otel-kafka-jaeger/${VERSION}`;
/** Connection errors worth one immediate retry on a fresh socket when they hit a reused keep-alive socket. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

// ---------------------------------------------------------------------------------------------------------
// Options

/**
 * The endpoint of checked options (see {@link resolveHttpEndpointOptions}): the parsed URL, what messages may
 * show of it, and the secrets to blank out of them. `protocol` names what the sink speaks in messages about a
 * wrong URL, e.g. `OTLP/HTTP traces`.
 */
export function httpEndpoint(o: ResolvedHttpEndpointOptions, defaultUrl: string, protocol: string): HttpEndpoint {
  const url = new URL(o.url);
  const secrets = Object.values(o.headers).filter((v) => v.length >= MIN_REDACTED_LENGTH);
  if (url.password !== '') secrets.push(url.password, safeDecode(url.password));
  return {
    url,
    displayUrl: `${url.protocol}//${url.host}${url.pathname}`,
    headers: o.headers,
    timeoutMillis: o.timeoutMillis,
    secrets,
    endpointErrors: o.endpointErrors,
    urlHint: `the ${protocol} path is ${new URL(defaultUrl).pathname}`,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/**
 * POSTs bodies to one endpoint over kept-alive connections (at most 8), each request timed, abortable and
 * run under `suppressTracing`.
 */
export class HttpTransport {
  readonly endpoint: HttpEndpoint;
  readonly #agent: HttpAgent;
  readonly #request: (url: URL, options: RequestOptions) => ClientRequest;

  constructor(endpoint: HttpEndpoint) {
    this.endpoint = endpoint;
    const https = endpoint.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS };
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = https ? httpsRequest : httpRequest;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * Sends `body` and resolves with the complete response, whatever its status. Rejects with a retriable
   * {@link SinkError} on a timeout (`timeoutMillis`, from sending to having read the whole response) or a
   * connection failure, and with the signal's reason when `signal` aborts (or already has).
   */
  post(body: Buffer, postHeaders: HttpPostHeaders, signal: AbortSignal): Promise<HttpResponse> {
    const e = this.endpoint;
    const headers: Record<string, string | number> = {
      'user-agent': USER_AGENT,
      ...e.headers,
      'content-type': postHeaders.contentType,
      'content-length': body.length,
    };
    if (postHeaders.contentEncoding !== undefined) headers['content-encoding'] = postHeaders.contentEncoding;
    const requestOptions: RequestOptions = { method: 'POST', agent: this.#agent, headers };

    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let current: ClientRequest | undefined;

      /** True the first time only: the request ends once, by a response, an error, a timeout or an abort. */
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const fail = (error: Error): void => {
        if (finish()) reject(error);
      };
      const abandon = (error: Error): void => {
        if (settled) return;
        fail(error);
        current?.destroy();
      };
      const onAbort = (): void => abandon(abortError(signal));
      const timer = setTimeout(() => {
        abandon(new SinkError(`POST ${e.displayUrl} timed out after ${e.timeoutMillis} ms`, { retriable: true }));
      }, e.timeoutMillis);
      signal.addEventListener('abort', onAbort, { once: true });

      const attempt = (mayRetryStaleSocket: boolean): void => {
        // Never trace our own export requests (an HTTP instrumentation would otherwise feed them back in).
        const req = context.with(suppressTracing(context.active()), () => this.#request(e.url, requestOptions));
        current = req;
        let responded = false;
        req.on('response', (res) => {
          responded = true;
          readBody(res, (error, bytes) => {
            if (error !== undefined) fail(this.#connectionError(error));
            else if (finish()) resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes });
          });
        });
        req.on('error', (error) => {
          if (settled) return;
          // The server may close an idle keep-alive connection just as we reuse it; Node's docs recommend
          // retrying such a request once on a new connection rather than reporting a failure.
          if (mayRetryStaleSocket && !responded && req.reusedSocket && STALE_SOCKET_CODES.has(errnoCode(error) ?? '')) {
            attempt(false);
            return;
          }
          fail(this.#connectionError(error));
        });
        req.end(body);
      };
      attempt(true);
    });
  }

  #connectionError(error: Error): SinkError {
    const code = errnoCode(error);
    const detail = code === undefined || error.message.includes(code) ? error.message : `${code} ${error.message}`;
    return new SinkError(redact(`POST ${this.endpoint.displayUrl} failed: ${detail}`, this.endpoint.secrets), {
      retriable: true,
      cause: error,
    });
  }
}

/** Reads up to MAX_RESPONSE_BYTES of `res` (draining the rest), then calls `done` once. */
function readBody(res: IncomingMessage, done: (error: Error | undefined, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let finished = false;
  const finish = (error: Error | undefined): void => {
    if (finished) return;
    finished = true;
    done(error, Buffer.concat(chunks));
  };
  res.on('data', (chunk: Buffer) => {
    if (kept >= MAX_RESPONSE_BYTES) return;
    const part = chunk.subarray(0, MAX_RESPONSE_BYTES - kept);
    chunks.push(part);
    kept += part.length;
  });
  res.on('end', () => finish(undefined));
  res.on('error', (error) => finish(error));
  res.on('close', () => {
    if (!res.complete)
      finish(Object.assign(new Error('the response ended before its body was complete'), { code: 'ECONNRESET' }));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Responses

/** Statuses that say the request went to the wrong place (or the wrong kind of server), not that its data is bad. */
const ENDPOINT_STATUSES = new Set([404, 405, 415]);

/**
 * The {@link SinkError} a non-2xx response stands for, or undefined for a 2xx.
 *
 * 429, 408, 401, 403 and 5xx are retriable (with `retryAfterMillis` from `Retry-After`). 3xx (redirects are
 * not followed), 404, 405 and 415 say the URL is wrong: retriable with a message that says so, unless the
 * endpoint's `endpointErrors` is `permanent`. Other 4xx are permanent. The message holds an excerpt of the
 * body: what `readMessage` extracts, else the body as text.
 */
export function responseError(
  response: HttpResponse,
  endpoint: HttpEndpoint,
  readMessage?: ErrorBodyReader,
): SinkError | undefined {
  const { status, headers, body } = response;
  if (status >= 200 && status < 300) return undefined;

  const where = `HTTP ${status} from POST ${endpoint.displayUrl}`;
  if ((status >= 300 && status < 400) || ENDPOINT_STATUSES.has(status)) {
    const location = status < 400 ? safeLocation(headers.location, endpoint.url) : undefined;
    const excerpt = status < 400 ? '' : errorExcerpt(body, headers['content-type'], readMessage);
    const said =
      status < 400
        ? `redirects are not followed${location ? ` (Location: ${location})` : ''}; configure the final URL`
        : excerpt;
    return endpointError(endpoint, said === '' ? where : `${where}: ${said}`, status);
  }
  const excerpt = errorExcerpt(body, headers['content-type'], readMessage);
  const message = redact(excerpt === '' ? where : `${where}: ${excerpt}`, endpoint.secrets);
  // 429 and 5xx per OTLP/HTTP (which names 502/503/504; other 5xx are server faults just as likely to pass);
  // 408 is the server giving up on a slow request, never a verdict on the data. 401 and 403 say the
  // credentials are wrong, not the data: dead-lettering every record until an operator fixes a token would
  // be worse than waiting, so the forwarder pauses and retries.
  if (status === 429 || status === 408 || status === 401 || status === 403 || status >= 500) {
    return new SinkError(message, {
      retriable: true,
      httpStatus: status,
      retryAfterMillis: parseRetryAfter(headers),
    });
  }
  return new SinkError(message, { retriable: false, httpStatus: status });
}

/**
 * A response about the endpoint rather than the records: by default retriable, since dead-lettering every
 * record while an ingress answers 404 during a rollout (or until someone fixes a URL) loses the stream to
 * the dead-letter topic; the forwarder pauses the partition and retries with backoff instead.
 */
function endpointError(endpoint: HttpEndpoint, what: string, status: number): SinkError {
  const retriable = endpoint.endpointErrors === 'retry';
  const advice =
    `the endpoint refused the request, not its data: is the URL right? (${endpoint.urlHint})` +
    (retriable ? "; retrying until it answers (endpointErrors: 'retry')" : '');
  return new SinkError(redact(`${what} — ${advice}`, endpoint.secrets), { retriable, httpStatus: status });
}

/** `Retry-After` in milliseconds: delay-seconds, or an HTTP date (a past one gives 0). */
function parseRetryAfter(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A readable, bounded summary of an error response body. */
function errorExcerpt(body: Buffer, contentType: string | undefined, readMessage: ErrorBodyReader | undefined): string {
  if (body.length === 0) return '';
  return excerpt(readMessage?.(body, contentType) ?? body.toString('utf8'));
}

/** A redirect target for messages: resolved against the request URL, without credentials or query. */
function safeLocation(location: string | undefined, base: URL): string | undefined {
  if (location === undefined) return undefined;
  try {
    const url = new URL(location, base);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
