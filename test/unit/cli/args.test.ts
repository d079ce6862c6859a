import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FORWARDER_OPTIONS, UsageError, buildConfig, integerFlag, parseCommand, timeFlag } from '../../../src/cli/args';

describe('cli args', () => {
  it('turns unknown flags, missing values and stray arguments into UsageErrors naming them', () => {
    expect(() => parseCommand(['--nope'], FORWARDER_OPTIONS)).toThrow(UsageError);
    expect(() => parseCommand(['--nope'], FORWARDER_OPTIONS)).toThrow(/--nope/);
    expect(() => parseCommand(['--topic'], FORWARDER_OPTIONS)).toThrow(/--topic/);
    expect(() => parseCommand(['extra'], FORWARDER_OPTIONS)).toThrow(/'extra'/);
  });

  it('parses numbers and times strictly', () => {
    expect(integerFlag({ n: '12' }, 'n', 1)).toBe(12);
    expect(() => integerFlag({ n: '1.5' }, 'n', 1)).toThrow(/--n/);
    expect(() => integerFlag({ n: '0' }, 'n', 1)).toThrow(UsageError);
    expect(timeFlag({ from: '1700000000000' }, 'from')).toBe(1_700_000_000_000);
    expect(timeFlag({ from: '2024-05-01T12:00:00Z' }, 'from')).toBe(Date.parse('2024-05-01T12:00:00Z'));
    expect(() => timeFlag({ from: 'soon' }, 'from')).toThrow(/--from/);
  });

  it('merges the config file with the flags, flags winning, and keeps the file sink options', () => {
    const file = join(tmpdir(), `okj-cli-${process.pid}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        kafka: { brokers: ['file:9092'], topic: 'file-topic', clientId: 'c' },
        forwarder: { groupId: 'file-group', sink: { type: 'otlp-http', url: 'http://file', timeoutMillis: 7 } },
      }),
    );
    const { flags } = parseCommand(
      ['--config', file, '--brokers', 'a:1,b:2', '--sink-url', 'http://flag'],
      FORWARDER_OPTIONS,
    );
    expect(buildConfig(flags)).toEqual({
      kafka: { brokers: ['a:1', 'b:2'], topic: 'file-topic', clientId: 'c' },
      forwarder: { groupId: 'file-group', sink: { type: 'otlp-http', url: 'http://flag', timeoutMillis: 7 } },
    });
    const { flags: typeFlags } = parseCommand(['--config', file, '--sink-type', 'otlp-grpc'], FORWARDER_OPTIONS);
    expect(buildConfig(typeFlags).forwarder?.sink).toEqual({ type: 'otlp-grpc' });
  });

  it('rejects an unreadable or non-JSON config file as a usage error', () => {
    const bad = join(tmpdir(), `okj-cli-bad-${process.pid}.json`);
    writeFileSync(bad, '{ nope');
    expect(() => buildConfig({ config: bad })).toThrow(/not valid JSON/);
    expect(() => buildConfig({ config: '/nonexistent/okj.json' })).toThrow(/cannot read/);
  });
});
