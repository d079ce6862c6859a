// stack:up / stack:down / stack:status, plus per-component controls for manual outage drills:
//   tsx scripts/stack/cli.ts <up|down|status|start|stop|kill|destroy> [kafka|jaeger]
import { JaegerInstance, KafkaBroker, stackDown, stackStatus, stackUp } from './stack';

const USAGE = 'usage: tsx scripts/stack/cli.ts <up|down|status> | <start|stop|kill|destroy> <kafka|jaeger>';

async function main(argv: string[]): Promise<number> {
  const [command, component] = argv;
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const started = await stackUp();
      const what = [started.startedKafka && 'kafka', started.startedJaeger && 'jaeger'].filter(Boolean);
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
      const target =
        component === 'kafka' ? new KafkaBroker() : component === 'jaeger' ? new JaegerInstance() : undefined;
      if (!target) {
        console.error(`unknown component '${component ?? ''}'\n${USAGE}`);
        return 2;
      }
      await target[command]();
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
    console.log(`${r.component.padEnd(7)} ${state.padEnd(19)} ${r.endpoint}\n        log: ${r.log}`);
  }
  return rows.every((r) => r.ready) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
