// resolveJaegerThriftHttpSinkOptions: the one check of the Jaeger Thrift/HTTP sink's options, used by
// resolveConfig and by jaegerThriftHttpSink().
import { ConfigError } from '../../../src/errors/errors';
import {
  JAEGER_THRIFT_HTTP_SINK_OPTION_NAMES,
  resolveJaegerThriftHttpSinkOptions,
} from '../../../src/sinks/jaeger-thrift-http-sink-options';

describe('resolveJaegerThriftHttpSinkOptions', () => {
  it('applies every default to no options', () => {
    expect(resolveJaegerThriftHttpSinkOptions(undefined, 'forwarder.sink')).toEqual({
      url: 'http://localhost:14268/api/traces',
      headers: {},
      timeoutMillis: 10_000,
      maxRequestBytes: 8 * 1024 * 1024,
      endpointErrors: 'retry',
    });
  });

  it('keeps valid options as given, and resolving the result again changes nothing', () => {
    const options = { url: 'https://c:14268/api/traces', headers: { a: 'b' }, maxRequestBytes: 1024 };
    const resolved = resolveJaegerThriftHttpSinkOptions(options, 'p');
    expect(resolved).toMatchObject(options);
    expect(resolveJaegerThriftHttpSinkOptions(resolved, 'p')).toEqual(resolved);
  });

  it('returns every option it lists, and lists every option it returns', () => {
    expect(Object.keys(resolveJaegerThriftHttpSinkOptions({}, 'p')).sort()).toEqual(
      Object.keys(JAEGER_THRIFT_HTTP_SINK_OPTION_NAMES).sort(),
    );
  });

  it.each([
    [{ maxRequestBytes: 0 }, 'x.maxRequestBytes', /expected a whole number greater than 0, got 0/],
    [{ maxRequestBytes: 1.5 }, 'x.maxRequestBytes', /whole number/],
    [{ url: 'not a url' }, 'x.url', /got a string that is not a URL/],
    [{ headers: { 'x-n': 1 } }, 'x.headers.x-n', /expected a string, got number/],
  ])('refuses %o, naming %s', (options, field, message) => {
    let caught: unknown;
    try {
      resolveJaegerThriftHttpSinkOptions(options, 'x');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe(field);
    expect((caught as ConfigError).message).toMatch(message);
  });
});
