import { ConfigError } from '../../../src/errors/errors';
import { resolveExporterConfig } from '../../../src/config/exporter';
import { unknownConfigFields } from '../../../src/config/unknown-keys';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const resolve = (spool: unknown, env: NodeJS.ProcessEnv = {}): unknown =>
  resolveExporterConfig({ exporter: { spool } }, env, quiet).spool;

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('exporter.spool', () => {
  it('is off by default', () => {
    expect(resolve(undefined)).toBeUndefined();
  });

  it('one line turns it on with documented defaults', () => {
    expect(resolve({ directory: '/var/spool/okj' })).toEqual({
      directory: '/var/spool/okj',
      maxBytes: 256 * 1024 * 1024,
      fsync: 'batch',
      segmentBytes: 16 * 1024 * 1024,
      drainBytesPerSecond: 8 * 1024 * 1024,
    });
  });

  it('a small maxBytes gets segments of a quarter of it', () => {
    expect(resolve({ directory: 'd', maxBytes: 1024 * 1024, fsync: 'never' })).toMatchObject({
      maxBytes: 1024 * 1024,
      segmentBytes: 256 * 1024,
      fsync: 'never',
    });
  });

  it('OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY turns it on when code does not set it', () => {
    expect(resolve(undefined, { OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY: '/tmp/s' })).toMatchObject({
      directory: '/tmp/s',
      maxBytes: 256 * 1024 * 1024,
    });
    expect(resolve({ directory: '/code' }, { OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY: '/env' })).toMatchObject({
      directory: '/code',
    });
  });

  it.each([
    ['/tmp/x', 'exporter.spool'],
    [{}, 'exporter.spool.directory'],
    [{ directory: '' }, 'exporter.spool.directory'],
    [{ directory: 'd', maxBytes: 100 }, 'exporter.spool.maxBytes'],
    [{ directory: 'd', fsync: 'always' }, 'exporter.spool.fsync'],
    [{ directory: 'd', maxBytes: 1024 * 1024, segmentBytes: 2 * 1024 * 1024 }, 'exporter.spool.segmentBytes'],
    [{ directory: 'd', drainBytesPerSecond: 0 }, 'exporter.spool.drainBytesPerSecond'],
  ])('%j throws a ConfigError naming %s', (spool, field) => {
    expect(fieldOf(() => resolve(spool))).toBe(field);
  });

  it('unknown fields inside it are reported by path', () => {
    expect(unknownConfigFields({ exporter: { spool: { directory: 'd', maxbytes: 1 } } })).toEqual([
      'exporter.spool.maxbytes',
    ]);
  });
});
