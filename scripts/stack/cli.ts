// stack:up / stack:down / stack:status, plus per-component controls for manual outage drills:
//   tsx scripts/stack/cli.ts up [--brokers N]          (N > 1: a KRaft cluster of N nodes instead of one broker)
//   tsx scripts/stack/cli.ts <down|status>
//   tsx scripts/stack/cli.ts <start|stop|kill|destroy> <kafka|jaeger|kafka-cluster|kafka-cluster-N>
import { JaegerInstance, KafkaBroker, KafkaCluster, stackDown, stackStatus, stackUp } from './stack';

const USAGE =
  'usage: tsx scripts/stack/cli.ts up [--brokers N] | <down|status> | ' +
  '<start|stop|kill|destroy> <kafka|jaeger|kafka-cluster|kafka-cluster-N>';

/** `--brokers N` / `--brokers=N`, else `$OKJ_KAFKA_BROKERS`, else 1. */
function brokersOption(args: string[]): number {
  let raw = process.env.OKJ_KAFKA_BROKERS || '1';
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--brokers') raw = args[++i] ?? '';
    else if (a.startsWith('--brokers=')) raw = a.slice('--brokers='.length);
    else throw new Error(`unknown option '${a}'\n${USAGE}`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`--brokers ${raw}: expected 1 to 9`);
  return n;
}

type Target = { start(): Promise<void>; stop(): Promise<void>; kill?(): Promise<void>; destroy(): Promise<void> };

function target(component: string | undefined): Target | undefined {
  if (component === 'kafka') return new KafkaBroker();
  if (component === 'jaeger') return new JaegerInstance();
  const cluster = new KafkaCluster();
  if (component === cluster.name) return cluster;
  const m = component?.match(/^kafka-cluster-(\d)$/);
  return m ? cluster.node(Number(m[1])) : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, component, ...rest] = argv;
  switch (command) {
    case 'up': {
      const brokers = brokersOption(argv.slice(1));
      const t0 = Date.now();
      const started = await stackUp({ brokers });
      const what = [
        started.startedKafka && (brokers > 1 ? `kafka cluster of ${brokers}` : 'kafka'),
        started.startedJaeger && 'jaeger',
      ].filter(Boolean);
      console.log(
        `stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started: ${what.join(', ') || 'none, reused'})`,
      );
      return printStatus();
    }
    case 'down':
      await stackDown();
      console.log('stack down');
      return 0;
    case 'status':
      return printStatus();
    case 'start':
    case 'stop':
    case 'kill':
    case 'destroy': {
      const t = rest.length === 0 ? target(component) : undefined;
      if (!t || (command === 'kill' && !t.kill)) {
        console.error(`cannot ${command} '${component ?? ''}'\n${USAGE}`);
        return 2;
      }
      await (command === 'kill' ? t.kill?.() : t[command]());
      console.log(`${component}: ${command} done`);
      return 0;
    }
    default:
      console.error(command ? `unknown command '${command}'\n${USAGE}` : USAGE);
      return 2;
  }
}

async function printStatus(): Promise<number> {
  const rows = await stackStatus();
  for (const r of rows) {
    const state = r.ready ? 'ready' : r.running ? 'running, not ready' : 'stopped';
    console.log(`${r.component.padEnd(15)} ${state.padEnd(19)} ${r.endpoint}\n                log: ${r.log}`);
  }
  // Up means Jaeger and some Kafka: the single broker, or every node of a running cluster.
  const jaeger = rows.find((r) => r.component === 'jaeger');
  const single = rows.find((r) => r.component === 'kafka');
  const nodes = rows.filter((r) => r.component.startsWith('kafka-cluster-'));
  const kafkaUp = single?.ready === true || (nodes.length > 0 && nodes.every((r) => r.ready));
  return jaeger?.ready === true && kafkaUp ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
