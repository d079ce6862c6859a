import { healthPortOf } from '../../../src/cli/forward';
import { readiness } from '../../../src/cli/health-server';
import { UsageError } from '../../../src/cli/args';
import type { ForwarderHealth, PartitionHealth } from '../../../src/forwarder/health';

function health(state: ForwarderHealth['state'], partitions: Partial<PartitionHealth>[] = []): ForwarderHealth {
  return {
    state,
    groupId: 'g',
    topic: 't',
    sink: 'otlp-http',
    bufferedBytes: 0,
    inFlightRequests: 0,
    partitions: partitions.map((p, i) => ({
      topic: 't',
      partition: i,
      assigned: true,
      paused: false,
      pauseReasons: [],
      committedOffset: undefined,
      highWatermark: undefined,
      lag: undefined,
      pendingRecords: 0,
      lastError: undefined,
      ...p,
    })),
  };
}

describe('readiness', () => {
  it('is ready when running, also with partitions paused for a full buffer (back-pressure)', () => {
    expect(readiness(health('running', [{}, { paused: true, pauseReasons: ['buffer-full'] }]))).toEqual({
      ready: true,
    });
  });

  it('names the start-up progress while starting', () => {
    expect(readiness(health('created'))).toEqual({ ready: false, cause: 'starting: joining consumer group g' });
    expect(readiness(health('starting'), { attempts: 3, lastError: 'broker transport failure' })).toEqual({
      ready: false,
      cause: 'starting: joining consumer group g (attempt 3); last failure: broker transport failure',
    });
  });

  it('is not ready while stopping or stopped', () => {
    expect(readiness(health('stopping'))).toEqual({ ready: false, cause: 'forwarder is stopping' });
    expect(readiness(health('stopped'))).toEqual({ ready: false, cause: 'forwarder is stopped' });
  });

  it('names the partitions paused because the sink fails, and the latest error', () => {
    const failing = (at: string, message: string): Partial<PartitionHealth> => ({
      paused: true,
      pauseReasons: ['sink-failing'],
      lastError: { code: '503', message, at },
    });
    const r = readiness(
      health('running', [
        failing('2026-01-01T00:00:01.000Z', 'older'),
        {},
        failing('2026-01-01T00:00:02.000Z', 'Service Unavailable'),
      ]),
    );
    expect(r).toEqual({
      ready: false,
      cause: 'sink otlp-http failing: partitions t:0, t:2 paused; last error 503: Service Unavailable',
    });
  });
});

describe('healthPortOf', () => {
  const logger = () => ({ debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() });

  it('takes --health-port over the environment; 0 is allowed (any free port)', () => {
    const env = { OTEL_KAFKA_FORWARDER_HEALTH_PORT: '9000' };
    expect(healthPortOf({ 'health-port': '8081' }, logger(), env)).toBe(8081);
    expect(healthPortOf({ 'health-port': '0' }, logger(), env)).toBe(0);
    expect(healthPortOf({}, logger(), env)).toBe(9000);
    expect(healthPortOf({}, logger(), {})).toBeUndefined();
  });

  it('refuses a bad flag (exit 2) and warns about, then ignores, a bad environment value', () => {
    expect(() => healthPortOf({ 'health-port': '70000' }, logger(), {})).toThrow(UsageError);
    expect(() => healthPortOf({ 'health-port': 'http' }, logger(), {})).toThrow('--health-port');
    const l = logger();
    expect(healthPortOf({}, l, { OTEL_KAFKA_FORWARDER_HEALTH_PORT: '80a' })).toBeUndefined();
    expect(l.warn).toHaveBeenCalledWith(
      'ignoring OTEL_KAFKA_FORWARDER_HEALTH_PORT="80a": expected a port number from 0 to 65535',
      { variable: 'OTEL_KAFKA_FORWARDER_HEALTH_PORT' },
    );
  });
});
