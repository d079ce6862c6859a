// Shared argument handling of the CLI: strict flag parsing with node:util (no CLI framework), the config
// file + flags → config object merge, and the small value parsers. Every problem with what the user typed
// is a UsageError, which main.ts turns into exit code 2.
import { parseArgs } from 'node:util';

import { ENV } from '../config/env';
import { DEFAULTS } from '../config/defaults';
import type { OtelKafkaJaegerConfig } from '../config/types';
import type { Logger } from '../logging/logger';
import { MAX_TIMER_MILLIS } from '../retry/retry-policy';
import { ConfigFileError, readConfigFile } from './config-file';

/** A mistake in the command line (unknown flag, missing or malformed value): exit code 2. */
export class UsageError extends Error {
  /** The process exit code for usage errors, as for most Unix tools. */
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The option spec `parseArgs` takes. */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** Flags parsed by {@link parseCommand}: strings for string options, `true` for boolean ones. */
export type Flags = Record<string, string | boolean | undefined>;

/** `--help` and `--config`/`--brokers`: every command has them. */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
  brokers: { type: 'string' },
};

/** The flags that build a forwarder's config (forward and replay). */
export const FORWARDER_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  topic: { type: 'string' },
  group: { type: 'string' },
  'sink-url': { type: 'string' },
  'sink-type': { type: 'string' },
};

/** Help text lines of {@link FORWARDER_OPTIONS}, shared by the commands that take them. */
export const FORWARDER_OPTIONS_HELP = `  --config <file>       JSON file of the config object (README "Configuration"); flags win over it
  --brokers <list>      bootstrap brokers, host:port comma-separated (env ${ENV.brokers})
  --topic <name>        spans topic (env ${ENV.topic}, default ${DEFAULTS.topic})
  --group <id>          consumer group (env ${ENV.forwarderGroupId}, default ${DEFAULTS.forwarder.groupId})
  --sink-url <url>      where spans go (env ${ENV.forwarderSinkUrl})
  --sink-type <type>    otlp-http (default), otlp-grpc or jaeger-thrift-http`;

/** The flags of the admin-style commands (topic, lag, dlq): {@link COMMON_OPTIONS} and `--timeout`. */
export const ADMIN_OPTIONS: OptionSpec = {
  ...COMMON_OPTIONS,
  timeout: { type: 'string' },
};

/** Help text lines of {@link ADMIN_OPTIONS}. */
export const ADMIN_OPTIONS_HELP = `  --config <file>       JSON file of the config object; only its kafka section is used
  --brokers <list>      bootstrap brokers, host:port comma-separated (env ${ENV.brokers})
  --timeout <ms>        how long to wait for each Kafka request (default 10000)`;

/** `--timeout` of an admin-style command, in milliseconds. */
export function timeoutFlag(flags: Flags, defaultMillis: number): number {
  return integerFlag(flags, 'timeout', 1, MAX_TIMER_MILLIS) ?? defaultMillis;
}

const SINK_TYPES = ['otlp-http', 'otlp-grpc', 'jaeger-thrift-http'] as const;

/**
 * Parses `argv` strictly: unknown flags, missing values and stray positionals are UsageErrors naming the
 * problem. Returns the flags and the positionals.
 */
export function parseCommand(
  argv: string[],
  options: OptionSpec,
  maxPositionals = 0,
): { flags: Flags; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // node:util's messages already name the flag ("Unknown option '--x'", "Option '--y <value>' argument
    // missing"); only their trailing advice about '--' is noise here.
    throw new UsageError(String(err instanceof Error ? err.message : err).replace(/\. To specify .*$/s, ''));
  }
  const flags = parsed.values as Flags;
  if (!flags.help && parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return { flags, positionals: parsed.positionals };
}

/** The string value of a flag (`undefined` when absent). */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number flag within [min, max]; a UsageError naming the flag otherwise. */
export function integerFlag(
  flags: Flags,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

/** A positive number flag (fractions allowed); a UsageError naming the flag otherwise. */
export function positiveNumberFlag(flags: Flags, name: string): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}: expected a positive number, got '${raw}'`);
  return n;
}

/** A time flag: an ISO 8601 date/time or milliseconds since the epoch. */
export function timeFlag(flags: Flags, name: string): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new UsageError(`--${name}: expected an ISO 8601 time or milliseconds since the epoch, got '${raw}'`);
  }
  return ms;
}

/** One of `allowed`; a UsageError listing them otherwise. */
export function choiceFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name}: expected one of ${allowed.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

function brokersFlag(flags: Flags): string[] | undefined {
  const raw = stringFlag(flags, 'brokers');
  if (raw === undefined) return undefined;
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new UsageError(`--brokers: expected host:port[,host:port...], got '${raw}'`);
  return brokers;
}

function configFile(path: string): OtelKafkaJaegerConfig {
  try {
    return readConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The config object: the `--config` file, then the flags on top. Fields neither sets stay undefined so the
 * library still resolves them from the environment, then its defaults.
 */
export function buildConfig(flags: Flags, logger?: Logger): OtelKafkaJaegerConfig {
  const path = stringFlag(flags, 'config');
  const file = path === undefined ? {} : configFile(path);
  const brokers = brokersFlag(flags);
  const topic = stringFlag(flags, 'topic');
  const group = stringFlag(flags, 'group');
  const sinkUrl = stringFlag(flags, 'sink-url');
  const sinkType = choiceFlag(flags, 'sink-type', SINK_TYPES);

  const kafka = { ...file.kafka, ...(brokers && { brokers }), ...(topic !== undefined && { topic }) };
  const forwarder = { ...file.forwarder, ...(group !== undefined && { groupId: group }) };
  if (sinkUrl !== undefined || sinkType !== undefined) {
    const fileSink = file.forwarder?.sink;
    const fileConfig = fileSink && 'type' in fileSink ? fileSink : undefined;
    const type = sinkType ?? fileConfig?.type ?? 'otlp-http';
    // A sink config in the file is kept (headers, timeouts...) unless the flag changes its type.
    const base = fileConfig?.type === type ? fileConfig : { type };
    forwarder.sink = sinkUrl === undefined ? base : { ...base, url: sinkUrl };
  }
  return { ...file, kafka, forwarder, ...(logger && { logger }) };
}
