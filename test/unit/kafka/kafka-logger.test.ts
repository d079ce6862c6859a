import { RepeatLimiter, connectionFailureOf, kafkaLogger, logClientLine } from '../../../src/kafka/kafka-logger';

describe('kafkaLogger', () => {
  it('logs a repeated client warning once per window, then with the count it held back', () => {
    let now = 0;
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (m: string, a?: Record<string, unknown>) => warnings.push([m, a]),
    };
    const log = kafkaLogger(logger, 'kafka.consumer', new RepeatLimiter(30_000, () => now));

    for (let i = 0; i < 100; i++) log.error('all broker connections are down');
    log.warn('something else');
    now = 30_000;
    log.error('all broker connections are down');

    expect(warnings).toEqual([
      ['all broker connections are down', { component: 'kafka.consumer' }],
      ['something else', { component: 'kafka.consumer' }],
      ['all broker connections are down', { component: 'kafka.consumer', repeatsSuppressed: 99 }],
    ]);
  });

  it('shares the limit across namespaces of one client', () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (m: string) => warnings.push(m) };
    const log = kafkaLogger(logger);
    log.warn('down');
    log.namespace('consumer').warn('down');
    expect(warnings).toEqual(['down']);
  });
});

describe('connection failures', () => {
  it('logs a misconfigured secure connection once per cause, reports every sighting, and limits repeats that differ only in timing', () => {
    const lines: [string, string, Record<string, unknown> | undefined][] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (m: string, a?: Record<string, unknown>) => lines.push(['warn', m, a]),
      error: (m: string, a?: Record<string, unknown>) => lines.push(['error', m, a]),
    };
    const failures: string[] = [];
    const log = kafkaLogger(logger, 'kafka.consumer', new RepeatLimiter(), (f) => failures.push(f.code));
    const line = (ms: number): string =>
      'sasl_ssl://127.0.0.1:9094/bootstrap: SASL authentication error: Authentication failed during authentication ' +
      `due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after ${ms}ms in state AUTH_REQ)`;
    log.error(line(313));
    log.namespace('x').error(line(320));
    // Logged once, handed over each time it is seen (the exporter judges each connect attempt anew).
    expect(failures).toEqual(['KAFKA_AUTHENTICATION', 'KAFKA_AUTHENTICATION']);
    expect(lines.map(([level]) => level)).toEqual(['error', 'warn']);
    expect(lines[0]?.[1]).toMatch(/^Kafka connection refused: the broker rejected the SASL credentials/);
    expect(lines[0]?.[2]).toEqual({ component: 'kafka.consumer', code: 'KAFKA_AUTHENTICATION' });
  });

  it('recognises a failed certificate check and a plaintext client on a TLS listener', () => {
    expect(
      connectionFailureOf('SSL handshake failed: error:0A000086:SSL routines::certificate verify failed')?.code,
    ).toBe('KAFKA_TLS_VERIFICATION');
    expect(
      connectionFailureOf(
        '127.0.0.1:9094/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 1ms in state APIVERSION_QUERY)',
      )?.code,
    ).toBe('KAFKA_SECURITY_PROTOCOL');
    expect(connectionFailureOf('Local: Authentication failure')?.code).toBe('KAFKA_AUTHENTICATION');
    expect(connectionFailureOf('Local: SSL error')?.code).toBe('KAFKA_TLS_VERIFICATION');
    expect(connectionFailureOf('Local: Broker transport failure')).toBeUndefined();
    expect(connectionFailureOf('Connect to ipv4#127.0.0.1:9092 failed: Connection refused')).toBeUndefined();
  });
});

describe('logClientLine', () => {
  it("passes a native client's warnings on as warnings, the rest at debug, and names a failure logged at info", () => {
    const lines: [string, string][] = [];
    const logger = {
      debug: (m: string) => lines.push(['debug', m]),
      info: (m: string) => lines.push(['info', m]),
      warn: (m: string) => lines.push(['warn', m]),
      error: (m: string) => lines.push(['error', m]),
    };
    const failures: string[] = [];
    const log = kafkaLogger(logger, 'kafka.producer', new RepeatLimiter(), (f) => failures.push(f.code));
    logClientLine(log, { severity: 3, message: 'Connect to ipv4#127.0.0.1:1 failed: Connection refused' });
    logClientLine(log, { severity: 7, message: 'Broker changed state' });
    // librdkafka reports a plaintext client closed by a TLS listener at info level (severity 6).
    logClientLine(log, {
      severity: 6,
      message:
        '127.0.0.1:9094/bootstrap: Disconnected: connection closed by peer: receive 0 after POLLIN (after 3ms in state APIVERSION_QUERY)',
    });
    expect(lines.map(([level]) => level)).toEqual(['warn', 'debug', 'error', 'debug']);
    expect(failures).toEqual(['KAFKA_SECURITY_PROTOCOL']);
  });
});
