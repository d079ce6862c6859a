// The real stack this project tests against: one Apache Kafka broker (KRaft) and Jaeger v2 instances, all
// on 127.0.0.1, installed and built by the scripts beside this file into a version-keyed cache.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
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

function envPort(name: string, fallback: number, opts: { allowZero?: boolean } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (opts.allowZero && port === 0) return 0;
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

/** Asks the kernel for a free loopback port (for extra instances started by tests). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct ports free right now: all held open until each was picked (picked one after another, the
 * system may hand out a port it just released again: a Jaeger got the same port for its query and health
 * endpoints and could not start).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.unref();
      servers.push(server);
      ports.push(
        await new Promise<number>((res, rej) => {
          server.on('error', rej);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (typeof address === 'object' && address) res(address.port);
            else rej(new Error('no port'));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((res) => server.close(() => res()))));
  }
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

// -------------------------------------------------------------------------------- TLS and SCRAM material

/** The stack's TLS files and SCRAM credentials (scripts/stack/make-certs.sh; throwaway test material). */
export interface StackSecurity {
  dir: string;
  /** The CA the broker certificate chains to: what clients trust. */
  caFile: string;
  /** A CA unrelated to the broker's certificate: trusting only it must fail the handshake. */
  otherCaFile: string;
  /** A client certificate and key signed by the CA (optional mutual TLS). */
  clientCertFile: string;
  clientKeyFile: string;
  keystoreFile: string;
  keystorePassword: string;
  /** The SCRAM-SHA-512 user created on every broker with Kafka's own tooling. */
  username: string;
  password: string;
}

/** Generates the material once (cached by version) and reads it. */
export async function prepareSecurity(): Promise<StackSecurity> {
  return securityIn(await runScript('make-certs.sh'));
}

/** The material of an earlier {@link prepareSecurity} (synchronous, for test helpers); throws if missing. */
export function stackSecurity(): StackSecurity {
  const dir = join(cacheDir(), 'tls', 'v1');
  if (!existsSync(join(dir, '.complete'))) throw new Error(`no TLS material in ${dir}: run npm run stack:up`);
  return securityIn(dir);
}

function securityIn(dir: string): StackSecurity {
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8').trim();
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    keystoreFile: join(dir, 'broker.p12'),
    keystorePassword: read('keystore-password'),
    username: read('scram-username'),
    password: read('scram-password'),
  };
}

export interface KafkaBrokerOptions {
  /** Instance name: its data, log and pid file live under `<runDir>/<name>`. @defaultValue `kafka` */
  name?: string;
  /** @defaultValue `$OKJ_KAFKA_PORT` or 39092 */
  port?: number;
  /** @defaultValue `$OKJ_KAFKA_CONTROLLER_PORT` or 39093 */
  controllerPort?: number;
  /**
   * Port of the second listener, SASL_SSL with SCRAM-SHA-512; 0 for none.
   * @defaultValue 0 when `port` is given, else `$OKJ_KAFKA_SASL_PORT` or the PLAINTEXT port + 2 (39094)
   */
  saslSslPort?: number;
  /** KRaft node id. @defaultValue 1 */
  nodeId?: number;
  /** `controller.quorum.voters`. @defaultValue this node alone */
  voters?: string;
  /** The cluster id the storage is formatted with (all nodes of a cluster share one). @defaultValue random */
  clusterId?: string;
  /** Live brokers the node must see in its metadata to count as ready. @defaultValue 1 */
  expectedBrokers?: number;
  /** Extra server.properties entries. */
  properties?: Record<string, string | number | boolean>;
}

export class KafkaBroker {
  readonly name: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The SASL_SSL listener's port, 0 when it has none. */
  readonly saslSslPort: number;
  readonly nodeId: number;
  readonly dir: string;
  readonly #process: ServiceProcess;
  readonly #opts: KafkaBrokerOptions;
  readonly #properties: Record<string, string | number | boolean>;

  constructor(opts: KafkaBrokerOptions = {}) {
    this.#opts = opts;
    this.name = opts.name ?? 'kafka';
    this.port = opts.port ?? envPort('OKJ_KAFKA_PORT', 39092);
    this.controllerPort = opts.controllerPort ?? envPort('OKJ_KAFKA_CONTROLLER_PORT', 39093);
    // A broker placed on an explicit port (a benchmark's private broker) has no second listener unless asked
    // for one; otherwise it sits two ports above the PLAINTEXT one, so isolated stacks do not collide on it.
    this.saslSslPort =
      opts.saslSslPort ??
      (opts.port !== undefined ? 0 : envPort('OKJ_KAFKA_SASL_PORT', this.port + 2, { allowZero: true }));
    this.nodeId = opts.nodeId ?? 1;
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

  /** `host:port` of the SASL_SSL listener (throws when the broker has none). */
  get saslSslBootstrap(): string {
    if (this.saslSslPort === 0) throw new Error(`${this.name} has no SASL_SSL listener`);
    return `127.0.0.1:${this.saslSslPort}`;
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
      return md.brokers.length >= (this.#opts.expectedBrokers ?? 1) && md.controllerId >= 0;
    } catch {
      return false;
    }
  }

  /** Resolves the jars (once; cached by version) and returns the libs directory. */
  prepare(): Promise<string> {
    return runScript('install-kafka.sh');
  }

  /**
   * Starts the broker on its existing data (formatting the storage the first time, with the SCRAM user) and
   * waits until it answers a Metadata request. Reuses a broker that is already running.
   */
  async start(timeoutMillis = 90_000): Promise<void> {
    const security = this.saslSslPort > 0 ? await prepareSecurity() : undefined;
    // A broker started by an older version of these scripts, without the SASL_SSL listener: restart it on its
    // data with the listener (the user is then added below).
    if (security && this.isRunning() && !readFileSync(this.#propsFile, 'utf8').includes('SASL_SSL://'))
      await this.stop();
    if (!this.isRunning()) {
      const libs = await this.prepare();
      const dataDir = join(this.dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      const propsFile = this.#propsFile;
      writeFileSync(propsFile, this.#serverProperties(dataDir, security));
      const jvm = this.#jvm(libs);
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        // SCRAM credentials go into the bootstrap metadata at format time: Kafka's own tooling, and no JVM
        // start of its own.
        const scram = security ? ['--add-scram', scramCredential(security)] : [];
        await run('java', [
          ...jvm,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          this.#opts.clusterId ?? kafkaClusterId(),
          '-c',
          propsFile,
          '--ignore-formatted',
          ...scram,
        ]);
        if (security) writeFileSync(join(this.dir, SCRAM_MARKER), security.username);
      }
    }
    for (let attempt = 1; ; attempt++) {
      if (!this.isRunning())
        this.#process.spawn('java', [...this.#jvm(await this.prepare()), 'kafka.Kafka', this.#propsFile]);
      try {
        await this.#waitReady(timeoutMillis);
        break;
      } catch (err) {
        // A port of ours held by a client's outgoing connection (a port inside Linux's ephemeral range, taken as
        // a source port while the broker was down): a short-lived one is gone a second later.
        if (attempt >= 5 || this.isRunning() || !this.logTail(200).includes('Address already in use')) throw err;
        await delay(1_000);
      }
    }
    // Data formatted before the SASL listener existed: create the user on the running broker instead.
    const addScramUser = security !== undefined && !existsSync(join(this.dir, SCRAM_MARKER));
    if (addScramUser && security) {
      await this.addScramUser(security);
      writeFileSync(join(this.dir, SCRAM_MARKER), security.username);
    }
  }

  /**
   * Creates or updates a SCRAM-SHA-512 user with Kafka's own `ConfigCommand` (over the PLAINTEXT listener),
   * as an operator does; also how a test rotates a password.
   */
  async addScramUser(credentials: { username: string; password: string }): Promise<void> {
    const libs = await this.prepare();
    await run('java', [
      ...this.#jvm(libs, '-Xmx256m'),
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      this.bootstrap,
      '--alter',
      '--add-config',
      `SCRAM-SHA-512=[iterations=8192,password=${credentials.password}]`,
      '--entity-type',
      'users',
      '--entity-name',
      credentials.username,
    ]);
  }

  #jvm(libs: string, heap = '-Xmx512m'): string[] {
    const home = resolve(libs, '..');
    return [
      heap.replace('-Xmx', '-Xms'),
      heap,
      '-server',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(home, 'log4j2.yaml')}`,
      `-Dkafka.logs.dir=${this.dir}`,
      '-cp',
      `${libs}/*`,
    ];
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

  get #propsFile(): string {
    return join(this.dir, 'server.properties');
  }

  /** Polls until ready; fails at once when the process exits (no point waiting out the timeout then). */
  async #waitReady(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    const fail = (why: string): Error =>
      new Error(
        `Kafka ${this.name} on ${this.bootstrap}: ${why}\n--- last lines of ${this.logFile} ---\n${this.logTail()}`,
      );
    for (;;) {
      if (!this.isRunning()) throw fail('the broker process exited');
      if (await this.isReady()) return;
      if (Date.now() > deadline) throw fail(`not ready within ${timeoutMillis} ms`);
      await delay(200);
    }
  }

  #serverProperties(dataDir: string, security: StackSecurity | undefined): string {
    const listeners = [`PLAINTEXT://127.0.0.1:${this.port}`, `CONTROLLER://127.0.0.1:${this.controllerPort}`];
    const advertised = [`PLAINTEXT://127.0.0.1:${this.port}`];
    const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
    const secure: Record<string, string> = {};
    if (security) {
      listeners.push(`SASL_SSL://127.0.0.1:${this.saslSslPort}`);
      advertised.push(`SASL_SSL://127.0.0.1:${this.saslSslPort}`);
      protocols.push('SASL_SSL:SASL_SSL');
      Object.assign(secure, {
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl_ssl.ssl.keystore.type': 'PKCS12',
        'listener.name.sasl_ssl.ssl.keystore.location': security.keystoreFile,
        'listener.name.sasl_ssl.ssl.keystore.password': security.keystorePassword,
        'listener.name.sasl_ssl.ssl.key.password': security.keystorePassword,
        'listener.name.sasl_ssl.ssl.truststore.type': 'PEM',
        'listener.name.sasl_ssl.ssl.truststore.location': security.caFile,
        // A client certificate is checked when one is offered (the optional mutual-TLS path), not required.
        'listener.name.sasl_ssl.ssl.client.auth': 'requested',
      });
    }
    const voters = this.#opts.voters ?? `${this.nodeId}@127.0.0.1:${this.controllerPort}`;
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': this.nodeId,
      'controller.quorum.voters': voters,
      listeners: listeners.join(','),
      'advertised.listeners': advertised.join(','),
      'inter.broker.listener.name': 'PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': protocols.join(','),
      ...secure,
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

// ------------------------------------------------------------------------------------------ the cluster

export interface KafkaClusterOptions {
  /** Nodes, each a combined broker and controller (KRaft). @defaultValue `$OKJ_KAFKA_CLUSTER_SIZE` or 3 */
  size?: number;
  /**
   * Node n (1-based) listens on `basePort + 10 (n - 1)` (PLAINTEXT), `+ 1` (CONTROLLER), `+ 2` (SASL_SSL).
   * @defaultValue `$OKJ_KAFKA_CLUSTER_PORT` or 29190
   *
   * @remarks
   * Below Linux's ephemeral range (32768-60999): while a node is down, any client connection may take its port
   * as a source port and hold it (librdkafka keeps connections open), and the node could not bind it again
   * (seen: a chaos run on ports 42190-42212 lost a restart to `Address already in use`).
   */
  basePort?: number;
  /** Nodes are named `<name>-<n>` under the run directory. @defaultValue `kafka-cluster` */
  name?: string;
}

/**
 * A replicated KRaft cluster on loopback: `size` combined broker/controller nodes, topics replicated to every
 * node (`default.replication.factor` = size) with `min.insync.replicas` = size - 1, so one node may die and
 * acks=all writes go on, and two down stop them.
 */
export class KafkaCluster {
  readonly name: string;
  readonly size: number;
  readonly nodes: KafkaBroker[];
  readonly clusterId: string;

  constructor(opts: KafkaClusterOptions = {}) {
    this.name = opts.name ?? 'kafka-cluster';
    this.size = opts.size ?? Number(process.env.OKJ_KAFKA_CLUSTER_SIZE || 3);
    if (!Number.isInteger(this.size) || this.size < 2 || this.size > 9) {
      throw new Error(`a cluster has 2 to 9 nodes, not ${this.size}`);
    }
    const base = opts.basePort ?? envPort('OKJ_KAFKA_CLUSTER_PORT', 29190);
    const ids = Array.from({ length: this.size }, (_, i) => i + 1);
    const voters = ids.map((id) => `${id}@127.0.0.1:${base + 10 * (id - 1) + 1}`).join(',');
    this.clusterId = this.#clusterId();
    const clusterId = this.clusterId;
    const minIsr = Math.max(1, this.size - 1);
    this.nodes = ids.map(
      (id) =>
        new KafkaBroker({
          name: `${this.name}-${id}`,
          nodeId: id,
          port: base + 10 * (id - 1),
          controllerPort: base + 10 * (id - 1) + 1,
          saslSslPort: base + 10 * (id - 1) + 2,
          voters,
          clusterId,
          expectedBrokers: this.size,
          properties: {
            'default.replication.factor': this.size,
            'min.insync.replicas': minIsr,
            'offsets.topic.replication.factor': this.size,
            'transaction.state.log.replication.factor': this.size,
            'transaction.state.log.min.isr': minIsr,
            'share.coordinator.state.topic.replication.factor': this.size,
            'share.coordinator.state.topic.min.isr': minIsr,
            // A SIGKILLed node is fenced (and leaves every ISR) after this long without a heartbeat; Kafka's
            // 9 s default makes every leader-failure test wait that long for nothing.
            'broker.session.timeout.ms': 4_000,
            'broker.heartbeat.interval.ms': 1_000,
            'unclean.leader.election.enable': false,
          },
        }),
    );
  }

  /** PLAINTEXT `host:port` of every node. */
  get bootstrap(): string[] {
    return this.nodes.map((n) => n.bootstrap);
  }

  /** SASL_SSL `host:port` of every node. */
  get saslSslBootstrap(): string[] {
    return this.nodes.map((n) => n.saslSslBootstrap);
  }

  /** The node with this KRaft id (1-based). */
  node(id: number): KafkaBroker {
    const node = this.nodes[id - 1];
    if (!node) throw new Error(`${this.name} has no node ${id}`);
    return node;
  }

  isRunning(): boolean {
    return this.nodes.some((n) => n.isRunning());
  }

  /**
   * Starts every node that is not running (on its data; formatted with the shared cluster id the first time)
   * and waits until each one sees all of them. The nodes start together: a KRaft quorum of 3 needs 2 voters
   * before any of them is ready.
   */
  async start(timeoutMillis = 120_000): Promise<void> {
    // Jars and certificates once, before the nodes ask for them at the same time.
    await Promise.all([this.nodes[0]?.prepare(), prepareSecurity()]);
    const idFile = join(runDir(), this.name, 'cluster-id');
    if (!existsSync(idFile)) {
      mkdirSync(join(runDir(), this.name), { recursive: true });
      writeFileSync(idFile, this.clusterId);
    }
    await Promise.all(this.nodes.map((n) => n.start(timeoutMillis)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Stops every node and deletes the cluster's data (a new cluster id next time). */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
    rmSync(join(runDir(), this.name), { recursive: true, force: true });
  }

  /** The cluster id, kept beside the nodes so that a node formatted later joins the same cluster. */
  #clusterId(): string {
    const file = join(runDir(), this.name, 'cluster-id');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const id = kafkaClusterId();
    mkdirSync(join(runDir(), this.name), { recursive: true });
    writeFileSync(file, id);
    return id;
  }
}

const SCRAM_MARKER = 'scram-user';

/** StorageTool's `--add-scram` argument for the user. */
function scramCredential(c: { username: string; password: string }): string {
  return `SCRAM-SHA-512=[name=${c.username},password=${c.password}]`;
}

/** A Kafka cluster id: 16 random bytes, base64url, never starting with '-' (Kafka's own rule). */
export function kafkaClusterId(): string {
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
  const [otlpGrpc, otlpHttp, thriftHttp, queryHttp, queryGrpc, health] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { otlpGrpc, otlpHttp, thriftHttp, queryHttp, queryGrpc, health };
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

  /** Builds the binary (once; cached by version) and returns its path. */
  prepare(): Promise<string> {
    return runScript('build-jaeger.sh');
  }

  /** Starts Jaeger on its existing data (Badger keeps it across restarts) and waits until ready. */
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

/**
 * Brings the default broker (or, with `brokers` > 1, the cluster) and Jaeger up, reusing running ones; returns
 * which were started now. `brokers` defaults to `$OKJ_KAFKA_BROKERS` or 1.
 */
export async function stackUp(
  opts: { freshData?: boolean; brokers?: number } = {},
): Promise<{ startedKafka: boolean; startedJaeger: boolean }> {
  const brokers = opts.brokers ?? Number(process.env.OKJ_KAFKA_BROKERS || 1);
  const kafka = brokers > 1 ? new KafkaCluster({ size: brokers }) : new KafkaBroker();
  const jaeger = new JaegerInstance();
  const startedKafka = !kafka.isRunning();
  const startedJaeger = !jaeger.isRunning();
  // A stopped component restarts on its data unless asked to start clean (the test suite does: it never
  // needs old data, and a broker recovering hundreds of old test topics after an unclean stop starts slowly).
  if (opts.freshData) {
    if (startedKafka) await kafka.destroy();
    if (startedJaeger) await jaeger.destroy();
  }
  // Install and build first (in parallel: Maven, Go, openssl), so no readiness deadline runs during a cold
  // build; then start both at once, overlapping the JVM's start-up with Jaeger's.
  await Promise.all([new KafkaBroker().prepare(), jaeger.prepare(), prepareSecurity()]);
  await Promise.all([kafka.start(), jaeger.start()]);
  return { startedKafka, startedJaeger };
}

/** Stops Jaeger, the single broker and every node of the cluster that runs. */
export async function stackDown(): Promise<void> {
  await Promise.all([new JaegerInstance().stop(), new KafkaBroker().stop(), new KafkaCluster().stop()]);
}

export async function stackStatus(): Promise<StackStatus[]> {
  const kafka = new KafkaBroker();
  const jaeger = new JaegerInstance();
  const cluster = new KafkaCluster();
  const brokerRow = async (b: KafkaBroker): Promise<StackStatus> => ({
    component: b.name,
    running: b.isRunning(),
    ready: await b.isReady(),
    endpoint: b.saslSslPort > 0 ? `${b.bootstrap}, sasl_ssl ${b.saslSslBootstrap}` : b.bootstrap,
    log: b.logFile,
  });
  const rows = [await brokerRow(kafka)];
  // The cluster is listed only when some node of it runs: it is an option, not part of the default stack.
  if (cluster.isRunning()) for (const n of cluster.nodes) rows.push(await brokerRow(n));
  rows.push({
    component: 'jaeger',
    running: jaeger.isRunning(),
    ready: await jaeger.isReady(),
    endpoint: `otlp-http ${jaeger.otlpHttpUrl}, query ${jaeger.queryUrl}`,
    log: jaeger.logFile,
  });
  return rows;
}
