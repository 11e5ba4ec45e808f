// The install as npm sees it, with npm itself (no parsing of its files by hand):
// - onnxruntime-node's install script does not run: on linux/x64 it only fetches the CUDA provider
//   from NuGet (the CPU binaries ship in the package), which an offline machine cannot reach and a
//   CPU-only one does not need. Two switches, because npm versions differ: package.json's
//   `allowScripts` denies it (npm ≥ 11.16), and `.npmrc`'s `onnxruntime-node-install=skip` (the
//   package's documented switch, which npm hands to the script as npm_config_onnxruntime_node_install)
//   covers Node 20's and 22's bundled npm 10, which ignores allowScripts and would otherwise fail an
//   offline `npm ci` (or download CUDA binaries online). The price: npm 11 warns that it does not know
//   that `.npmrc` key, the only warning it may print. The script is pointed at a closed local port
//   (global-agent's proxy variables, which it honours), so if it ran it would fail at once rather
//   than download anything, and the last npm case shows that it does fail when the switch is
//   overridden and the policy ignored (the checks can fail);
// - every locked package accepts the Node that runs the tests (CI: Node 20; we support 20.19+).
//   cookie@2 (light-my-request's, behind fastify.inject) wants Node >= 22: package.json overrides it
//   with cookie@1.1.1 (Node >= 18), which has the one function light-my-request calls,
//   stringifySetCookie({ name, value }); the last case injects a request with cookies through it.
// Each npm runs with an environment cleared of npm_* and ONNXRUNTIME_* variables, as a developer's
// plain `npm ci` would.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLOSED_PORT = 'http://127.0.0.1:9';

function npm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|ONNXRUNTIME_)/i.test(k)));
  const r = spawnSync('npm', args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...env, GLOBAL_AGENT_HTTP_PROXY: CLOSED_PORT, GLOBAL_AGENT_HTTPS_PROXY: CLOSED_PORT },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm install', () => {
  it('npm reads the project configuration with no warning but the known .npmrc key', () => {
    const r = npm(['ls', 'onnxruntime-node', '--depth=0']);
    expect(r.status, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => /npm warn/i.test(l));
    expect(warnings.filter((l) => !/Unknown project config "onnxruntime-node-install"/.test(l))).toEqual([]);
  }, 150_000);

  it("npm ≥ 11.16 does not even start onnxruntime-node's install script (allowScripts)", () => {
    const r = npm(['rebuild', 'onnxruntime-node', '--foreground-scripts']);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/script\/install|nuget|ECONNREFUSED/i);
  }, 150_000);

  it('an npm that ignores allowScripts (npm 10, bundled with Node 20 and 22) still skips it through .npmrc', () => {
    const r = npm(['rebuild', 'onnxruntime-node', '--foreground-scripts', '--dangerously-allow-all-scripts']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/script\/install/); // it ran, and the switch made it stop
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/nuget|ECONNREFUSED/i);
  }, 150_000);

  it('the script does run, and fails at the closed port, with the policy ignored and the switch overridden (the checks above can fail)', () => {
    const r = npm(['rebuild', 'onnxruntime-node', '--foreground-scripts', '--dangerously-allow-all-scripts', '--onnxruntime-node-install=true']);
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/ECONNREFUSED/);
  }, 150_000);
});

describe('Node 20.19+', () => {
  it('every locked package accepts the running Node (npm --engine-strict, nothing installed)', () => {
    const r = npm(['install', '--dry-run', '--engine-strict', '--ignore-scripts', '--offline', '--no-audit', '--no-fund']);
    expect(r.stderr).not.toMatch(/EBADENGINE|notsup/);
    expect(r.status, r.stderr).toBe(0);
  }, 150_000);

  it("fastify's inject sends cookies through the overridden cookie package", async () => {
    const app = Fastify();
    app.get('/', async (req) => ({ cookie: req.headers.cookie ?? null }));
    try {
      const res = await app.inject({ method: 'GET', url: '/', cookies: { session: 'a b', theme: 'dark' } });
      expect(res.json()).toEqual({ cookie: 'session=a%20b; theme=dark' });
    } finally {
      await app.close();
    }
  });
});
