// What `npm start` does when no cluster is configured (worker/temporal.ts): it starts the official
// dev server on a SQLite file under data/, in WAL mode, with Loopwright's search attributes
// registered; what it started survives a restart on the same file; a port held by a process it did
// not start is an error, never silently reused.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../worker/config.js';
import { obtainTemporal, type TemporalHandle } from '../worker/temporal.js';
import { freePort } from '../worker/temporal-process.js';
import { SA } from '../workflows/messages.js';

let dir: string;
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'loopwright-start-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function localConfig(extra: Record<string, string> = {}) {
  const port = await freePort();
  return parseConfig({ TEMPORAL_LOCAL_PORT: String(port), TEMPORAL_UI_PORT: '0', TEMPORAL_DB_FILE: path.join(dir, 'temporal.sqlite'), ...extra }).temporal;
}

describe('the local dev server npm start runs', () => {
  it('keeps its state in a WAL-mode SQLite file with our search attributes, across a restart', async () => {
    const config = await localConfig();
    let handle: TemporalHandle | null = await obtainTemporal(config, log);
    try {
      expect(handle.kind).toBe('dev-server');
      expect(existsSync(path.join(dir, 'temporal.sqlite-wal'))).toBe(true);
      const registered = await handle.client.connection.operatorService.listSearchAttributes({ namespace: config.namespace });
      for (const key of Object.values(SA)) expect(Object.keys(registered.customAttributes), key.name).toContain(key.name);
      // A workflow nobody works on: it stays Running in the server's file.
      await handle.client.workflow.start('NobodyRunsThis', { taskQueue: 'nobody', workflowId: 'survives-restart', args: [] });
    } finally {
      await handle.close();
      handle = null;
    }
    const again = await obtainTemporal(config, log);
    try {
      const d = await again.client.workflow.getHandle('survives-restart').describe();
      expect(d.status.name).toBe('RUNNING');
      expect(d.type).toBe('NobodyRunsThis');
    } finally {
      await again.close();
    }
  }, 180_000);

  it('refuses a port held by a process it did not start', async () => {
    const config = await localConfig({ TEMPORAL_DB_FILE: path.join(dir, 'other.sqlite') });
    const squatter = net.createServer().listen(config.local.port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      await expect(obtainTemporal(config, log)).rejects.toThrow(/already in use by a process this one did not start/);
    } finally {
      squatter.close();
    }
  }, 60_000);
});
