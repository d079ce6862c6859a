import { randomBytes } from 'node:crypto';

/** A name no other test or run uses: `<prefix>-<time>-<random>`, valid as a Kafka topic or group id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
