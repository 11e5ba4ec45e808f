// The install as npm sees it, with npm itself (no parsing of its files by hand):
// - npm reads the project's configuration without a warning (an `.npmrc` key npm does not know,
//   like the old `onnxruntime-node-install=skip`, made every npm command warn);
// - onnxruntime-node's install script does not run: on linux/x64 it only fetches the CUDA provider
//   from NuGet (the CPU binaries ship in the package), which an offline machine cannot reach and a
//   CPU-only one does not need. package.json's `allowScripts` denies it (npm ≥ 11.16); the script is
//   pointed at a closed local port (global-agent's proxy variables, which it honours), so if it ran
//   it would fail at once rather than download anything, and the last case shows that it does fail
//   when npm is told to ignore the policy (the check can fail);
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
  it('npm reads the project configuration without a warning', () => {
    const r = npm(['ls', 'onnxruntime-node', '--depth=0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/npm warn/i);
  }, 150_000);

  it("skips onnxruntime-node's install script (it would fetch CUDA binaries from NuGet) without any switch", () => {
    const r = npm(['rebuild', 'onnxruntime-node', '--foreground-scripts']);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/nuget|ECONNREFUSED/i);
  }, 150_000);

  it('the script does run, and fails at the closed port, when npm ignores the policy (the check above can fail)', () => {
    const r = npm(['rebuild', 'onnxruntime-node', '--foreground-scripts', '--dangerously-allow-all-scripts']);
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
