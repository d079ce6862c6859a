// Installing the package as a user does, outside this repository: `npm pack` into a scratch directory and
// `npm install` of an app that depends on the tarball. Shared by the examples and README-snippet tests.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(__dirname, '../../..');

/** Builds the package if it was not, packs it into `scratch` and returns the tarball's path. */
export function packPackage(scratch: string): string {
  if (!existsSync(join(ROOT, 'dist/index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: ROOT })
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  return join(scratch, packed);
}

/**
 * `npm install` in `dir` (bounded). Scripts are not run: the native Kafka client's install script would download
 * a prebuilt binary (unreachable here) or build it from source for minutes; the binary this repository built
 * (same version, same machine) is copied in its place, as the download would have put it.
 */
export function npmInstall(dir: string): void {
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--loglevel=error'],
    {
      cwd: dir,
      stdio: 'pipe',
      timeout: 240_000,
    },
  );
  const binding = 'node_modules/@confluentinc/kafka-javascript/build';
  cpSync(join(ROOT, binding), join(dir, binding), { recursive: true });
}
