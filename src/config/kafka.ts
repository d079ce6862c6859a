// The `kafka` section: brokers, topic, client id, connect timeout, TLS, SASL and the librdkafka passthrough.
import { ConfigError } from '../errors/errors';
import { configLogger, diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { DEFAULTS, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES } from './defaults';
import { brokerList, brokerProblem, ENV, ENV_OLD_NAMES, EnvReader, oneOf, positiveMillis } from './env';
import type { OtelKafkaJaegerConfig, RdKafkaValue, SaslMechanism, SecurityProtocol } from './types';
import {
  MAX_TIMER_MILLIS,
  checkBoolean,
  checkNumber,
  checkOneOf,
  checkRoot,
  checkSection,
  checkString,
  describe,
  isObject,
  topicParser,
} from './validators';

const PROTOCOLS: readonly SecurityProtocol[] = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'];
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** Resolved TLS settings of the Kafka connection. */
export interface ResolvedTls {
  /** CA bundle path (`ssl.ca.location`), if any. */
  caFile?: string;
  /** Client certificate path (`ssl.certificate.location`), if any. */
  certFile?: string;
  /** Client key path (`ssl.key.location`), if any. */
  keyFile?: string;
  /** Client key password, if any. A secret: do not log it. */
  keyPassword?: string;
  /** Whether the broker's certificate is verified. */
  rejectUnauthorized: boolean;
}

/** Resolved SASL settings. */
export interface ResolvedSasl {
  /** The mechanism. */
  mechanism: SaslMechanism;
  /** User name. */
  username: string;
  /** Password. A secret: do not log it. */
  password: string;
}

/** The resolved `kafka` section. */
export interface ResolvedKafkaConfig {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[];
  /** The spans topic. */
  topic: string;
  /** Client id reported to the brokers. */
  clientId: string;
  /** The time limit of connecting a client (waiting for cluster metadata), in milliseconds. */
  connectTimeoutMillis: number;
  /** Security protocol, explicit or derived from TLS and SASL. */
  securityProtocol: SecurityProtocol;
  /** TLS settings, or undefined without TLS. */
  tls: ResolvedTls | undefined;
  /** SASL settings, or undefined without SASL. */
  sasl: ResolvedSasl | undefined;
  /** librdkafka passthrough properties, as given (they may hold secrets). */
  rdkafka: Record<string, RdKafkaValue>;
}

/** The `kafka` section: brokers, topic, client id, security, passthrough. */
export function resolveKafkaConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedKafkaConfig {
  const root = checkRoot(config);
  const k = checkSection('kafka', root.kafka);
  const e = new EnvReader(env, configLogger(logger));

  let brokers: string[] | undefined;
  if (k.brokers !== undefined) {
    if (!Array.isArray(k.brokers)) {
      throw new ConfigError('kafka.brokers', `expected an array of 'host:port' strings, got ${describe(k.brokers)}`);
    }
    if (k.brokers.length === 0) {
      throw new ConfigError('kafka.brokers', "is empty: give at least one 'host:port' (e.g. '127.0.0.1:9092')");
    }
    brokers = k.brokers.map((b: unknown, i) => {
      const problem = typeof b === 'string' ? brokerProblem(b) : 'not a string';
      if (problem !== undefined) throw new ConfigError(`kafka.brokers[${i}]`, `${describe(b)}: ${problem}`);
      return b as string;
    });
  }
  brokers ??= e.read(ENV.brokers, brokerList);
  if (!brokers) {
    // Set but refused (the warning says why): not "required", which would read as if it were not set.
    const raw = e.rawValue(ENV.brokers);
    const problem = raw === undefined ? undefined : brokerList(raw);
    throw new ConfigError(
      'kafka.brokers',
      problem && 'error' in problem
        ? `${e.nameOf(ENV.brokers)} is invalid (${problem.error}) and kafka.brokers is not set`
        : `required: set kafka.brokers or ${ENV.brokers} (or its earlier name ${ENV_OLD_NAMES[ENV.brokers]}) ` +
            `(e.g. '127.0.0.1:9092')`,
    );
  }

  let topic = checkString('kafka.topic', k.topic);
  if (topic !== undefined && 'error' in topicParser(topic)) {
    throw new ConfigError(
      'kafka.topic',
      `${describe(topic)} is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-])`,
    );
  }
  topic ??= e.read(ENV.topic, topicParser) ?? DEFAULTS.topic;

  const clientId = checkString('kafka.clientId', k.clientId) ?? e.string(ENV.clientId) ?? DEFAULTS.clientId;
  const connectTimeoutMillis =
    checkNumber('kafka.connectTimeoutMillis', k.connectTimeoutMillis, {
      min: 0,
      exclusiveMin: true,
      max: MAX_TIMER_MILLIS,
    }) ??
    e.read(ENV.connectTimeout, positiveMillis) ??
    DEFAULTS.connectTimeoutMillis;

  // TLS: code object/boolean (`kafka.ssl`, or its alias `kafka.tls`), else the environment's certificate paths.
  if (k.ssl !== undefined && k.tls !== undefined) {
    throw new ConfigError('kafka.tls', 'is another name for kafka.ssl: set one of them, not both');
  }
  const tlsField = k.tls !== undefined ? 'kafka.tls' : 'kafka.ssl';
  const tlsOption = k.ssl ?? k.tls;
  let tls: ResolvedTls | undefined;
  if (tlsOption !== undefined && tlsOption !== false) {
    const s = tlsOption === true ? {} : checkSection(tlsField, tlsOption);
    // KafkaJS's `ssl` takes the PEM itself (`ca: [fs.readFileSync(...)]`); ignored, it would silently leave the
    // connection to the system's trust store and no client certificate.
    for (const [pem, file] of [
      ['ca', 'caFile'],
      ['cert', 'certFile'],
      ['key', 'keyFile'],
      ['passphrase', 'keyPassword'],
    ] as const) {
      if (s[pem] !== undefined) {
        throw new ConfigError(
          `${tlsField}.${pem}`,
          pem === 'passphrase'
            ? `not supported: set ${tlsField}.keyPassword (KafkaJS's ssl options are not read)`
            : `PEM content is not supported: write it to a file and set ${tlsField}.${file} to its path ` +
                "(KafkaJS's ssl options are not read)",
        );
      }
    }
    tls = {
      caFile: checkString(`${tlsField}.caFile`, s.caFile) ?? e.string(ENV.certificate),
      certFile: checkString(`${tlsField}.certFile`, s.certFile) ?? e.string(ENV.clientCertificate),
      keyFile: checkString(`${tlsField}.keyFile`, s.keyFile) ?? e.string(ENV.clientKey),
      keyPassword: checkString(`${tlsField}.keyPassword`, s.keyPassword, { secret: true }),
      rejectUnauthorized: checkBoolean(`${tlsField}.rejectUnauthorized`, s.rejectUnauthorized) ?? true,
    };
  } else if (tlsOption === undefined) {
    const caFile = e.string(ENV.certificate);
    const certFile = e.string(ENV.clientCertificate);
    const keyFile = e.string(ENV.clientKey);
    if (caFile || certFile || keyFile) tls = { caFile, certFile, keyFile, rejectUnauthorized: true };
  }

  const sasl = k.sasl === undefined ? saslFromEnvironment(e, configLogger(logger)) : saslFromCode(k.sasl, e);

  const derived: SecurityProtocol = sasl ? (tls ? 'sasl_ssl' : 'sasl_plaintext') : tls ? 'ssl' : 'plaintext';
  const securityProtocol =
    checkOneOf('kafka.securityProtocol', k.securityProtocol, PROTOCOLS) ??
    e.read(ENV.securityProtocol, oneOf(PROTOCOLS)) ??
    derived;

  const rdkafka = checkSection('kafka.rdkafka', k.rdkafka);
  for (const [key, value] of Object.entries(rdkafka)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(`kafka.rdkafka['${key}']`, `expected a string, number or boolean, got ${describe(value)}`);
    }
  }
  passthroughMessageMaxBytes(root);

  return {
    brokers,
    topic,
    clientId,
    connectTimeoutMillis,
    securityProtocol,
    tls,
    sasl,
    rdkafka: rdkafka as Record<string, RdKafkaValue>,
  };
}

/** SASL set in code: completed from the environment, and it must then be complete. */
function saslFromCode(value: unknown, e: EnvReader): ResolvedSasl {
  const s = checkSection('kafka.sasl', value);
  const mechanism =
    // Any case, as the environment variable accepts it (KafkaJS and librdkafka users write 'SCRAM-SHA-512').
    checkOneOf(
      'kafka.sasl.mechanism',
      typeof s.mechanism === 'string' ? s.mechanism.toLowerCase() : s.mechanism,
      MECHANISMS,
    ) ?? e.read(ENV.saslMechanism, oneOf(MECHANISMS));
  const username = checkString('kafka.sasl.username', s.username) ?? e.string(ENV.saslUsername);
  const password = checkString('kafka.sasl.password', s.password, { secret: true }) ?? e.string(ENV.saslPassword);
  if (!username) throw new ConfigError('kafka.sasl.username', `required with SASL (or set ${ENV.saslUsername})`);
  if (!password) throw new ConfigError('kafka.sasl.password', `required with SASL (or set ${ENV.saslPassword})`);
  return { mechanism: mechanism ?? 'plain', username, password };
}

/**
 * SASL from the environment alone: only a complete set is used; anything else is operator input to warn
 * about and ignore. A mechanism that is set but invalid discards the set rather than falling back to PLAIN,
 * which would send the password to a broker expecting SCRAM.
 */
function saslFromEnvironment(e: EnvReader, logger: Logger): ResolvedSasl | undefined {
  const names = [ENV.saslMechanism, ENV.saslUsername, ENV.saslPassword];
  const present = names.filter((n) => e.has(n)).map((n) => e.nameOf(n));
  if (present.length === 0) return undefined;
  // Name what is missing in the family of what is set, earlier names included.
  const oldNames = present.every((n) => !names.includes(n as (typeof names)[number]));
  const shown = (n: string): string => (oldNames ? (ENV_OLD_NAMES[n] ?? n) : n);
  const mechanism = e.read(ENV.saslMechanism, oneOf(MECHANISMS));
  const username = e.string(ENV.saslUsername);
  const password = e.string(ENV.saslPassword);
  const missing: string[] = [];
  if (!username) missing.push(shown(ENV.saslUsername));
  if (!password) missing.push(shown(ENV.saslPassword));
  if (missing.length > 0 || (e.has(ENV.saslMechanism) && mechanism === undefined)) {
    const reason =
      missing.length > 0 ? `${missing.join(' and ')} not set` : `${e.nameOf(ENV.saslMechanism)} is invalid`;
    logger.warn(`ignoring the SASL environment variables (${present.join(', ')}): ${reason}`, {
      variables: present,
    });
    return undefined;
  }
  return { mechanism: mechanism ?? 'plain', username: username as string, password: password as string };
}

/**
 * The passthrough `kafka.rdkafka['message.max.bytes']` as a number, if set; it must leave room for a
 * message's key and headers like `exporter.maxMessageBytes` does.
 */
export function passthroughMessageMaxBytes(root: OtelKafkaJaegerConfig): number | undefined {
  const rdkafka = isObject(root.kafka) ? root.kafka.rdkafka : undefined;
  const raw: unknown = isObject(rdkafka) ? rdkafka['message.max.bytes'] : undefined;
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  return checkNumber("kafka.rdkafka['message.max.bytes']", value, {
    min: MIN_MESSAGE_BYTES,
    max: MAX_MESSAGE_BYTES,
    integer: true,
  });
}
