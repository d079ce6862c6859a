// resolveOtlpHttpSinkOptions: the one check of the OTLP/HTTP sink's options, used by resolveConfig and by
// otlpHttpSink().
import { OTLP_HTTP_SINK_OPTION_NAMES, resolveOtlpHttpSinkOptions } from '../../../src/sinks/otlp-http-sink-options';
import { configError } from '../helpers/config';

describe('resolveOtlpHttpSinkOptions', () => {
  it('applies every default to no options', () => {
    expect(resolveOtlpHttpSinkOptions(undefined, 'forwarder.sink')).toEqual({
      url: 'http://localhost:4318/v1/traces',
      headers: {},
      timeoutMillis: 10_000,
      compression: 'none',
      encoding: 'protobuf',
      endpointErrors: 'retry',
    });
  });

  it('keeps valid options as given, and resolving the result again changes nothing', () => {
    const options = {
      url: 'https://user:pw@jaeger:4318/v1/traces',
      headers: { Authorization: 'Bearer t' },
      timeoutMillis: 1_500,
      compression: 'gzip' as const,
      encoding: 'json' as const,
      endpointErrors: 'permanent' as const,
    };
    const resolved = resolveOtlpHttpSinkOptions(options, 'p');
    expect(resolved).toEqual(options);
    expect(resolveOtlpHttpSinkOptions(resolved, 'p')).toEqual(resolved);
  });

  it('returns every option it lists, and lists every option it returns', () => {
    expect(Object.keys(resolveOtlpHttpSinkOptions({}, 'p')).sort()).toEqual(
      Object.keys(OTLP_HTTP_SINK_OPTION_NAMES).sort(),
    );
  });

  it.each([
    [{ url: 'ftp://h/v1/traces' }, 'sinks[2].url', /expected an http: or https: URL, got protocol 'ftp:'/],
    [{ url: 7 }, 'sinks[2].url', /expected a string, got number/],
    [{ timeoutMillis: 0 }, 'sinks[2].timeoutMillis', /greater than 0 and at most 2147483647, got 0/],
    [{ compression: 'br' }, 'sinks[2].compression', /expected 'none' or 'gzip', got 'br'/],
    [{ encoding: 'xml' }, 'sinks[2].encoding', /expected 'protobuf' or 'json', got 'xml'/],
    [{ endpointErrors: 'never' }, 'sinks[2].endpointErrors', /expected 'retry' or 'permanent'/],
    [{ headers: { 'content-type': 'x' } }, 'sinks[2].headers.content-type', /set by the sink/],
    [{ headers: { 'bad name': 'x' } }, 'sinks[2].headers.bad name', /not a valid HTTP header name/],
  ])('refuses %o, naming %s under the given prefix', (options, field, message) => {
    const err = configError(() => resolveOtlpHttpSinkOptions(options, 'sinks[2]'));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('refuses options that are not an object, and never shows a string it was given', () => {
    const err = configError(() => resolveOtlpHttpSinkOptions('http://u:s3cr3t@h/v1/traces', 'forwarder.sink'));
    expect(err.field).toBe('forwarder.sink');
    expect(err.message).toMatch(/expected an object, got string/);
    expect(err.message).not.toContain('s3cr3t');
    const headers = configError(() => resolveOtlpHttpSinkOptions({ headers: 'Bearer s3cr3t' }, 'forwarder.sink'));
    expect(headers.field).toBe('forwarder.sink.headers');
    expect(headers.message).toMatch(/got string$/);
    expect(headers.message).not.toContain('s3cr3t');
  });
});
