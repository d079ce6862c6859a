import { ConfigError } from '../../../src/errors/errors';
import type { Logger } from '../../../src/logging/logger';

/** The ConfigError `fn` throws; fails when it throws something else or nothing. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** The `field` of the ConfigError `fn` throws; fails when it throws something else or nothing. */
export function fieldOf(fn: () => unknown): string {
  return configError(fn).field;
}

/** A logger that keeps the messages of its warnings. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (m: string) => warnings.push(m),
    error: () => undefined,
  };
}
