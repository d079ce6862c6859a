// The checks every section's resolver uses: a bad value in code throws a ConfigError naming its field and
// what is allowed.
import { ConfigError } from '../errors/errors';
import { MAX_TIMER_MILLIS } from '../retry/retry-policy';
import type { OtelKafkaJaegerConfig } from './types';

export { MAX_TIMER_MILLIS };
const TOPIC_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

/** The configuration object itself: `{}` when absent, an error when not an object. */
export function checkRoot(config: unknown): OtelKafkaJaegerConfig {
  if (config === undefined) return {};
  if (!isObject(config)) throw new ConfigError('config', `expected an object, got ${describe(config)}`);
  return config;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

export function checkSection(field: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ConfigError(field, `expected an object, got ${describe(v)}`);
  return v;
}

export function checkString(field: string, v: unknown, opts: { secret?: boolean } = {}): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') {
    throw new ConfigError(field, `expected a non-empty string${opts.secret ? '' : `, got ${describe(v)}`}`);
  }
  return v;
}

export function checkBoolean(field: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(field, `expected true or false, got ${describe(v)}`);
  return v;
}

export function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(field, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** A finite number within [min, max]; `integer` requires a whole number. */
export function checkNumber(
  field: string,
  v: unknown,
  opts: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): number | undefined {
  if (v === undefined) return undefined;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const okMin = typeof v === 'number' && (opts.exclusiveMin ? v > opts.min : v >= opts.min);
  if (typeof v !== 'number' || !Number.isFinite(v) || !okMin || v > max || (opts.integer && !Number.isInteger(v))) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const low = opts.exclusiveMin ? `> ${opts.min}` : `>= ${opts.min}`;
    throw new ConfigError(field, `expected ${kind} ${low} and <= ${max}, got ${describe(v)}`);
  }
  return v;
}

function isTopicName(name: string): boolean {
  return TOPIC_PATTERN.test(name) && name !== '.' && name !== '..';
}

export const topicParser = (raw: string): { value: string } | { error: string } =>
  isTopicName(raw) ? { value: raw } : { error: 'expected 1-249 characters of [a-zA-Z0-9._-]' };

export function checkTopic(field: string, v: unknown): string | undefined {
  const topic = checkString(field, v);
  if (topic !== undefined && !isTopicName(topic)) {
    throw new ConfigError(field, `${describe(topic)} is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-])`);
  }
  return topic;
}
