// The real stack this project tests against: one Apache Kafka broker (KRaft) and Jaeger v2 instances, all
// on 127.0.0.1, installed and built by the scripts beside this file into a version-keyed cache.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { fetchMetadata } from './kafka-probe';
import { pollUntil, ServiceProcess } from './process';

const SCRIPTS_DIR = __dirname;

/** Where downloads and builds are cached: `$OKJ_CACHE_DIR`, else `~/.cache/otel-kafka-jaeger`. */
export function cacheDir(): string {
  return (
    process.env.OKJ_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'otel-kafka-jaeger')
  );
}

/** Where running services keep data, logs and pid files: `$OKJ_STACK_DIR`, else `<cache>/run`. */
export function runDir(): string {
  return process.env.OKJ_STACK_DIR ?? join(cacheDir(), 'run');
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

/** Asks the kernel for a free loopback port (for extra instances started by tests). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.unref();
    server.on('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

/**
 * Runs a command without blocking the event loop (a cold Jaeger build takes minutes, and readiness polls of
 * other components must keep running meanwhile); resolves with its stdout, rejects with its stderr.
 */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-4_000)}`));
      else resolve(stdout);
    });
    // Progress of long installs and builds goes to our stderr as it happens.
    child.stderr?.pipe(process.stderr);
  });
}

/** Runs an install/build script beside this file; resolves with the last line it printed (a path). */
async function runScript(script: string): Promise<string> {
  const out = await run('bash', [join(SCRIPTS_DIR, script)]);
  return out.trim().split('\n').at(-1) ?? '';
}

// ---------------------------------------------------------------------------------------------- Kafka

export interface KafkaBrokerOptions {
  /** Instance name: its data, log and pid file live under `<runDir>/<name>`. @defaultValue `kafka` */
  name?: string;
  /** @defaultValue `$OKJ_KAFKA_PORT` or 39092 */
  port?: number;
  /** @defaultValue `$OKJ_KAFKA_CONTROLLER_PORT` or 39093 */
  controllerPort?: number;
  /** Extra server.properties entries. */
  properties?: Record<string, string | number | boolean>;
}

export class KafkaBroker {
  readonly name: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  readonly #process: ServiceProcess;
  readonly #properties: Record<string, string | number | boolean>;

  constructor(opts: KafkaBrokerOptions = {}) {
    this.name = opts.name ?? 'kafka';
    this.port = opts.port ?? envPort('OKJ_KAFKA_PORT', 39092);
    this.controllerPort = opts.controllerPort ?? envPort('OKJ_KAFKA_CONTROLLER_PORT', 39093);
    this.dir = join(runDir(), this.name);
    this.#properties = opts.properties ?? {};
    this.#process = new ServiceProcess({
      name: this.name,
      pidFile: join(this.dir, 'pid'),
      logFile: join(this.dir, 'server.log'),
      marker: join(this.dir, 'server.properties'),
    });
  }

  /** `host:port` for clients. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return this.#process.logFile;
  }

  isRunning(): boolean {
    return this.#process.isRunning();
  }

  /** Freezes the broker (SIGSTOP: connections stay open, nothing is answered) or thaws it (SIGCONT). */
  freeze(frozen: boolean): void {
    this.#process.freeze(frozen);
  }

  /** True when the broker answers a Metadata request with itself as a live broker and a controller. */
  async isReady(): Promise<boolean> {
    try {
      const md = await fetchMetadata('127.0.0.1', this.port, 1_000);
      return md.brokers.length > 0 && md.controllerId >= 0;
    } catch {
      return false;
    }
  }

  /**
   * Starts the broker on its existing data (formatting the storage the first time) and waits until it
   * answers a Metadata request. Reuses a broker that is already running.
   */
  /** Resolves the jars (once; cached by version) and returns the libs directory. */
  prepare(): Promise<string> {
    return runScript('install-kafka.sh');
  }

  async start(timeoutMillis = 90_000): Promise<void> {
    if (!this.isRunning()) {
      const libs = await this.prepare();
      const home = resolve(libs, '..');
      const dataDir = join(this.dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      const propsFile = join(this.dir, 'server.properties');
      writeFileSync(propsFile, this.#serverProperties(dataDir));
      const classpath = `${libs}/*`;
      const jvm = [
        '-Xms512m',
        '-Xmx512m',
        '-server',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(home, 'log4j2.yaml')}`,
        `-Dkafka.logs.dir=${this.dir}`,
        '-cp',
        classpath,
      ];
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        await run('java', [
          ...jvm,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          kafkaClusterId(),
          '-c',
          propsFile,
          '--ignore-formatted',
        ]);
      }
      this.#process.spawn('java', [...jvm, 'kafka.Kafka', propsFile]);
    }
    await this.#waitReady(timeoutMillis);
  }

  /** Graceful stop (SIGTERM, controlled shutdown); data is kept. */
  stop(timeoutMillis = 30_000): Promise<void> {
    return this.#process.stop(timeoutMillis);
  }

  /** `kill -9`: no controlled shutdown; data on disk is kept. */
  kill(): Promise<void> {
    return this.#process.kill();
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return this.#process.tail(lines);
  }

  async #waitReady(timeoutMillis: number): Promise<void> {
    try {
      await pollUntil(
        `Kafka ${this.name} on ${this.bootstrap}`,
        async () => {
          if (!this.isRunning()) throw new Error('the broker process exited');
          return this.isReady();
        },
        timeoutMillis,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- last lines of ${this.logFile} ---\n${this.logTail()}`);
    }
  }

  #serverProperties(dataDir: string): string {
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${this.controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'inter.broker.listener.name': 'PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'log.dirs': dataDir,
      'num.partitions': 1,
      'offsets.topic.replication.factor': 1,
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'share.coordinator.state.topic.replication.factor': 1,
      'share.coordinator.state.topic.min.isr': 1,
      'group.initial.rebalance.delay.ms': 0,
      ...this.#properties,
    };
    return Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('\n')
      .concat('\n');
  }
}

/** A Kafka cluster id: 16 random bytes, base64url, never starting with '-' (Kafka's own rule). */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// --------------------------------------------------------------------------------------------- Jaeger

export type JaegerStorage = 'memory' | 'badger';

export interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  thriftHttp: number;
  queryHttp: number;
  queryGrpc: number;
  health: number;
}

export interface JaegerKafkaReceiverOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  /** @defaultValue `otlp_proto` */
  encoding?: string;
}

export interface JaegerKafkaExporterOptions {
  brokers: string[];
  topic: string;
  /** @defaultValue `otlp_proto` */
  encoding?: string;
}

export interface JaegerInstanceOptions {
  /** Instance name: its data, log, config and pid file live under `<runDir>/<name>`. @defaultValue `jaeger` */
  name?: string;
  /** @defaultValue `$OKJ_JAEGER_STORAGE` or `memory` */
  storage?: JaegerStorage;
  /** @defaultValue the `OKJ_JAEGER_*_PORT` variables, else 34317, 34318, 34268, 36686, 36685, 33133 */
  ports?: Partial<JaegerPorts>;
  /** Also read spans from Kafka (Jaeger as an ingester). */
  kafkaReceiver?: JaegerKafkaReceiverOptions;
  /** Write received spans to Kafka instead of storage (Jaeger as a collector). */
  kafkaExporter?: JaegerKafkaExporterOptions;
}

/** Ports for an extra Jaeger instance, all chosen free by the kernel. */
export async function freeJaegerPorts(): Promise<JaegerPorts> {
  return {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    thriftHttp: await freePort(),
    queryHttp: await freePort(),
    queryGrpc: await freePort(),
    health: await freePort(),
  };
}

export class JaegerInstance {
  readonly name: string;
  readonly storage: JaegerStorage;
  readonly ports: JaegerPorts;
  readonly dir: string;
  readonly #process: ServiceProcess;
  readonly #opts: JaegerInstanceOptions;

  constructor(opts: JaegerInstanceOptions = {}) {
    this.#opts = opts;
    this.name = opts.name ?? 'jaeger';
    const storage = opts.storage ?? process.env.OKJ_JAEGER_STORAGE ?? 'memory';
    if (storage !== 'memory' && storage !== 'badger') {
      throw new Error(`OKJ_JAEGER_STORAGE=${storage}: expected memory or badger`);
    }
    this.storage = storage;
    const p = opts.ports ?? {};
    this.ports = {
      otlpGrpc: p.otlpGrpc ?? envPort('OKJ_JAEGER_OTLP_GRPC_PORT', 34317),
      otlpHttp: p.otlpHttp ?? envPort('OKJ_JAEGER_OTLP_HTTP_PORT', 34318),
      thriftHttp: p.thriftHttp ?? envPort('OKJ_JAEGER_THRIFT_HTTP_PORT', 34268),
      queryHttp: p.queryHttp ?? envPort('OKJ_JAEGER_QUERY_PORT', 36686),
      queryGrpc: p.queryGrpc ?? envPort('OKJ_JAEGER_QUERY_GRPC_PORT', 36685),
      health: p.health ?? envPort('OKJ_JAEGER_HEALTH_PORT', 33133),
    };
    this.dir = join(runDir(), this.name);
    this.#process = new ServiceProcess({
      name: this.name,
      pidFile: join(this.dir, 'pid'),
      logFile: join(this.dir, 'jaeger.log'),
      marker: join(this.dir, 'config.yaml'),
    });
  }

  get otlpHttpUrl(): string {
    return `http://127.0.0.1:${this.ports.otlpHttp}/v1/traces`;
  }

  get otlpGrpcUrl(): string {
    return `http://127.0.0.1:${this.ports.otlpGrpc}`;
  }

  get thriftHttpUrl(): string {
    return `http://127.0.0.1:${this.ports.thriftHttp}/api/traces`;
  }

  get queryUrl(): string {
    return `http://127.0.0.1:${this.ports.queryHttp}`;
  }

  get healthUrl(): string {
    return `http://127.0.0.1:${this.ports.health}/status`;
  }

  get logFile(): string {
    return this.#process.logFile;
  }

  isRunning(): boolean {
    return this.#process.isRunning();
  }

  /** True when the health check reports healthy and the query API answers. */
  async isReady(): Promise<boolean> {
    try {
      const health = await fetch(this.healthUrl, { signal: AbortSignal.timeout(1_000) });
      if (!health.ok) return false;
      const body = (await health.json()) as { healthy?: boolean };
      if (body.healthy !== true) return false;
      const services = await fetch(`${this.queryUrl}/api/v3/services`, { signal: AbortSignal.timeout(1_000) });
      return services.ok;
    } catch {
      return false;
    }
  }

  /** Starts Jaeger on its existing data (Badger keeps it across restarts) and waits until ready. */
  /** Builds the binary (once; cached by version) and returns its path. */
  prepare(): Promise<string> {
    return runScript('build-jaeger.sh');
  }

  async start(timeoutMillis = 60_000): Promise<void> {
    if (!this.isRunning()) {
      const bin = await this.prepare();
      mkdirSync(this.dir, { recursive: true });
      const configFile = join(this.dir, 'config.yaml');
      writeFileSync(configFile, this.#config());
      this.#process.spawn(bin, ['--config', configFile]);
    }
    try {
      await pollUntil(
        `Jaeger ${this.name} (health ${this.healthUrl})`,
        async () => {
          if (!this.isRunning()) throw new Error('the jaeger process exited');
          return this.isReady();
        },
        timeoutMillis,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- last lines of ${this.logFile} ---\n${this.logTail()}`);
    }
  }

  /** Graceful stop (SIGTERM); Badger data is kept, memory storage is lost. */
  stop(timeoutMillis = 20_000): Promise<void> {
    return this.#process.stop(timeoutMillis);
  }

  /** `kill -9`. */
  kill(): Promise<void> {
    return this.#process.kill();
  }

  /** Stops Jaeger and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 40): string {
    return this.#process.tail(lines);
  }

  #config(): string {
    const ports = this.ports;
    const at = (port: number): string => `127.0.0.1:${port}`;
    const badgerDir = join(this.dir, 'badger');
    const backend =
      this.storage === 'badger'
        ? [
            '        badger:',
            '          directories:',
            `            keys: ${JSON.stringify(join(badgerDir, 'keys'))}`,
            `            values: ${JSON.stringify(join(badgerDir, 'values'))}`,
            '          ephemeral: false',
            '          ttl:',
            '            spans: 48h',
          ]
        : ['        memory:', '          max_traces: 200000'];
    const receivers = ['otlp', 'jaeger'];
    const kafkaReceiver = this.#opts.kafkaReceiver;
    if (kafkaReceiver) receivers.push('kafka');
    const kafkaExporter = this.#opts.kafkaExporter;
    const exporter = kafkaExporter ? 'kafka' : 'jaeger_storage_exporter';
    const lines = [
      '# Written by scripts/stack/stack.ts. No batch processor: with one, the OTLP receiver answers 200 before',
      '# storage has the data, and a crash right after a 200 would lose acknowledged spans.',
      'service:',
      '  extensions: [jaeger_storage, jaeger_query, healthcheckv2]',
      '  pipelines:',
      '    traces:',
      '      receivers:',
      ...receivers.map((r) => `        - ${r}`),
      '      processors: []',
      '      exporters:',
      `        - ${exporter}`,
      '  telemetry:',
      '    resource:',
      `      service.name: ${this.name}`,
      '    metrics:',
      '      level: none',
      '    logs:',
      '      level: info',
      'extensions:',
      '  healthcheckv2:',
      '    use_v2: true',
      '    http:',
      `      endpoint: ${at(ports.health)}`,
      '  jaeger_query:',
      '    storage:',
      '      traces: store',
      '    http:',
      `      endpoint: ${at(ports.queryHttp)}`,
      '    grpc:',
      `      endpoint: ${at(ports.queryGrpc)}`,
      '  jaeger_storage:',
      '    backends:',
      '      store:',
      ...backend,
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      grpc:',
      `        endpoint: ${at(ports.otlpGrpc)}`,
      '      http:',
      `        endpoint: ${at(ports.otlpHttp)}`,
      '  jaeger:',
      '    protocols:',
      '      thrift_http:',
      `        endpoint: ${at(ports.thriftHttp)}`,
    ];
    if (kafkaReceiver) {
      lines.push(
        '  kafka:',
        '    brokers:',
        ...kafkaReceiver.brokers.map((b) => `      - ${b}`),
        '    traces:',
        `      topic: ${kafkaReceiver.topic}`,
        `      encoding: ${kafkaReceiver.encoding ?? 'otlp_proto'}`,
        `    group_id: ${kafkaReceiver.groupId}`,
        '    initial_offset: earliest',
        '    message_marking:',
        '      after: true',
      );
    }
    lines.push('exporters:', '  jaeger_storage_exporter:', '    trace_storage: store');
    if (kafkaExporter) {
      lines.push(
        '  kafka:',
        '    brokers:',
        ...kafkaExporter.brokers.map((b) => `      - ${b}`),
        `    topic: ${kafkaExporter.topic}`,
        `    encoding: ${kafkaExporter.encoding ?? 'otlp_proto'}`,
      );
    }
    return lines.join('\n').concat('\n');
  }
}

// ------------------------------------------------------------------------------------- the whole stack

/** Endpoints of the stack tests and examples use. */
export interface StackEndpoints {
  kafkaBrokers: string[];
  jaegerOtlpHttpUrl: string;
  jaegerOtlpGrpcUrl: string;
  jaegerThriftHttpUrl: string;
  jaegerQueryUrl: string;
  /** True when the endpoints came from the environment: this project does not control those processes. */
  external: boolean;
}

/**
 * The stack in use: an external one when `KAFKA_BROKERS` and `JAEGER_QUERY_URL` are set (plus
 * `JAEGER_OTLP_HTTP_URL`, `JAEGER_OTLP_GRPC_URL`, `JAEGER_THRIFT_HTTP_URL`), else the project's own.
 */
export function stackEndpoints(): StackEndpoints {
  const env = process.env;
  if (env.KAFKA_BROKERS && env.JAEGER_QUERY_URL) {
    const query = env.JAEGER_QUERY_URL.replace(/\/+$/, '');
    const host = new URL(query).hostname;
    return {
      kafkaBrokers: env.KAFKA_BROKERS.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      jaegerOtlpHttpUrl: env.JAEGER_OTLP_HTTP_URL ?? `http://${host}:4318/v1/traces`,
      jaegerOtlpGrpcUrl: env.JAEGER_OTLP_GRPC_URL ?? `http://${host}:4317`,
      jaegerThriftHttpUrl: env.JAEGER_THRIFT_HTTP_URL ?? `http://${host}:14268/api/traces`,
      jaegerQueryUrl: query,
      external: true,
    };
  }
  const kafka = new KafkaBroker();
  const jaeger = new JaegerInstance();
  return {
    kafkaBrokers: [kafka.bootstrap],
    jaegerOtlpHttpUrl: jaeger.otlpHttpUrl,
    jaegerOtlpGrpcUrl: jaeger.otlpGrpcUrl,
    jaegerThriftHttpUrl: jaeger.thriftHttpUrl,
    jaegerQueryUrl: jaeger.queryUrl,
    external: false,
  };
}

export interface StackStatus {
  component: string;
  running: boolean;
  ready: boolean;
  endpoint: string;
  log: string;
}

/** Brings the default broker and Jaeger up (reusing running ones); returns which were started now. */
export async function stackUp(
  opts: { freshData?: boolean } = {},
): Promise<{ startedKafka: boolean; startedJaeger: boolean }> {
  const kafka = new KafkaBroker();
  const jaeger = new JaegerInstance();
  const startedKafka = !kafka.isRunning();
  const startedJaeger = !jaeger.isRunning();
  // A stopped component restarts on its data unless asked to start clean (the test suite does: it never
  // needs old data, and a broker recovering hundreds of old test topics after an unclean stop starts slowly).
  if (opts.freshData) {
    if (startedKafka) await kafka.destroy();
    if (startedJaeger) await jaeger.destroy();
  }
  // Install and build first (in parallel: Maven and Go), so no readiness deadline runs during a cold build;
  // then start both at once, overlapping the JVM's start-up with Jaeger's.
  await Promise.all([kafka.prepare(), jaeger.prepare()]);
  await Promise.all([kafka.start(), jaeger.start()]);
  return { startedKafka, startedJaeger };
}

export async function stackDown(): Promise<void> {
  await Promise.all([new JaegerInstance().stop(), new KafkaBroker().stop()]);
}

export async function stackStatus(): Promise<StackStatus[]> {
  const kafka = new KafkaBroker();
  const jaeger = new JaegerInstance();
  return [
    {
      component: 'kafka',
      running: kafka.isRunning(),
      ready: await kafka.isReady(),
      endpoint: kafka.bootstrap,
      log: kafka.logFile,
    },
    {
      component: 'jaeger',
      running: jaeger.isRunning(),
      ready: await jaeger.isReady(),
      endpoint: `otlp-http ${jaeger.otlpHttpUrl}, query ${jaeger.queryUrl}`,
      log: jaeger.logFile,
    },
  ];
}
