// resolveOtlpGrpcSinkOptions: the one check of the OTLP/gRPC sink's options, used by resolveConfig and by
// otlpGrpcSink().
import {
  OTLP_GRPC_SINK_OPTION_NAMES,
  grpcTarget,
  resolveOtlpGrpcSinkOptions,
} from '../../../src/sinks/otlp-grpc-sink-options';
import { configError } from '../helpers/config';

describe('resolveOtlpGrpcSinkOptions', () => {
  it('applies every default to no options', () => {
    expect(resolveOtlpGrpcSinkOptions(undefined, 'forwarder.sink')).toEqual({
      url: 'http://localhost:4317',
      headers: {},
      timeoutMillis: 10_000,
      compression: 'none',
      endpointErrors: 'retry',
    });
  });

  it('keeps the URL and header names as given (the sink lowercases them), and is idempotent', () => {
    const options = { url: 'jaeger:4317', headers: { 'X-Tenant': 'a' }, compression: 'gzip' as const };
    const resolved = resolveOtlpGrpcSinkOptions(options, 'p');
    expect(resolved).toMatchObject(options);
    expect(resolved.headers).not.toBe(options.headers);
    expect(resolveOtlpGrpcSinkOptions(resolved, 'p')).toEqual(resolved);
  });

  it('returns every option it lists, and lists every option it returns', () => {
    expect(Object.keys(resolveOtlpGrpcSinkOptions({}, 'p')).sort()).toEqual(
      Object.keys(OTLP_GRPC_SINK_OPTION_NAMES).sort(),
    );
  });

  it.each([
    [{ url: 'http://jaeger:4318/v1/traces' }, 's.url', /without a path or query \(is this the OTLP\/HTTP URL\?\)/],
    [{ url: 'http://u:p@jaeger:4317' }, 's.url', /credentials in the URL are not supported/],
    [{ timeoutMillis: -1 }, 's.timeoutMillis', /greater than 0/],
    [{ compression: 'zstd' }, 's.compression', /expected 'none' or 'gzip'/],
    [{ endpointErrors: 1 }, 's.endpointErrors', /expected 'retry' or 'permanent', got 1/],
    [{ headers: { 'grpc-timeout': '1S' } }, 's.headers.grpc-timeout', /set by the transport/],
    [{ headers: { a: 'x', A: 'y' } }, 's.headers.A', /given twice/],
    [{ headers: ['x'] }, 's.headers', /got an array$/],
  ])('refuses %o, naming %s', (options, field, message) => {
    const err = configError(() => resolveOtlpGrpcSinkOptions(options, 's'));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });
});

describe('grpcTarget', () => {
  it.each([
    ['http://jaeger:4317', { target: 'jaeger:4317', tls: false, displayUrl: 'http://jaeger:4317' }],
    ['https://jaeger', { target: 'jaeger:443', tls: true, displayUrl: 'https://jaeger:443' }],
    ['jaeger:4317', { target: 'jaeger:4317', tls: true, displayUrl: 'https://jaeger:4317' }],
    ['http://[::1]:4317', { target: '[::1]:4317', tls: false, displayUrl: 'http://[::1]:4317' }],
  ])('%s is %o', (url, expected) => {
    expect(grpcTarget(url, 'u')).toEqual(expected);
  });
});
