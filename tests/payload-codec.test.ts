// The payload encryption codec and its HTTP endpoint: AES-256-GCM with the key id in the payload,
// rotation by key id, tamper detection, keys from env or file; /codec/decode and /codec/encode in
// Temporal's codec-server format with bearer or session authentication and CORS for the UI origin.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { createTriagePipeline } from '../activities/triage/pipeline.js';
import { bundledTaxonomyPath, loadTaxonomyFile } from '../activities/triage/taxonomy-loader.js';
import { createHttpApp } from '../worker/http/app.js';
import { createDataConverter, EncryptionCodec, generatePayloadKeyEntry, localPayloadKeys, METADATA_KEY_ID, parsePayloadKeys, payloadKeysFromEnv, resolvePayloadKeyring } from '../worker/data-converter.js';
import { cliPayloadKeyring } from '../worker/commands/approve.js';
import { parseConfig } from '../worker/config.js';
import type { AuditStore } from '../activities/audit/index.js';
import type { Client } from '@temporalio/client';

const CANARY = 'jane.doe@example.com card 4111 1111 1111 1111';
const K1 = generatePayloadKeyEntry('k1');
const K2 = generatePayloadKeyEntry('k2');
const payload = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const clear = (p: Payload[]): string => p.map((x) => Buffer.from(x.data ?? []).toString('latin1') + JSON.stringify(x.metadata)).join('');

describe('EncryptionCodec', () => {
  it('encrypts the whole payload under the newest key, names the key, and decodes it back', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(`${K1},${K2}`));
    const [enc] = await codec.encode([payload({ text: CANARY })]);
    expect(Buffer.from(enc!.metadata![METADATA_ENCODING_KEY]!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(enc!.metadata![METADATA_KEY_ID]!).toString()).toBe('k2');
    expect(clear([enc!])).not.toContain('4111');
    expect(clear([enc!])).not.toContain('json/plain');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ text: CANARY });
    // Fresh IV per payload: equal inputs give different ciphertexts.
    const [again] = await codec.encode([payload({ text: CANARY })]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  it('rotation: old payloads decode with their key after a new one is added; dropping the key makes them unreadable', async () => {
    const [old] = await new EncryptionCodec(parsePayloadKeys(K1)).encode([payload('before rotation')]);
    const rotated = new EncryptionCodec(parsePayloadKeys(`${K1}\n${K2}`));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toBe('before rotation');
    const [fresh] = await rotated.encode([payload('after')]);
    expect(Buffer.from(fresh!.metadata![METADATA_KEY_ID]!).toString()).toBe('k2');
    await expect(new EncryptionCodec(parsePayloadKeys(K2)).decode([old!])).rejects.toThrow(/key "k1", which is not among the configured keys \(k2\)/);
  });

  it('detects tampering and re-labelling to another key id; passes unencrypted payloads through', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(`${K1},${K2}`));
    const [enc] = await codec.encode([payload('x')]);
    const flipped = Buffer.from(enc!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...enc!, data: flipped }])).rejects.toThrow(/failed authentication/);
    const relabelled = { ...enc!, metadata: { ...enc!.metadata, [METADATA_KEY_ID]: Buffer.from('k1') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication under key "k1"/);
    const plain = payload('legacy');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('reads keys from LOOPWRIGHT_PAYLOAD_KEYS or _FILE and refuses malformed ones, naming the variable', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-keys-'));
    try {
      writeFileSync(path.join(dir, 'keys'), `# rotated 2026-11\n${K1}\n${K2}\n`);
      expect(payloadKeysFromEnv({ LOOPWRIGHT_PAYLOAD_KEYS_FILE: path.join(dir, 'keys') })!.ids).toEqual(['k1', 'k2']);
      expect(payloadKeysFromEnv({ LOOPWRIGHT_PAYLOAD_KEYS: K2 })!.currentId).toBe('k2');
      expect(payloadKeysFromEnv({})).toBeNull();
      expect(() => payloadKeysFromEnv({ LOOPWRIGHT_PAYLOAD_KEYS_FILE: path.join(dir, 'missing') })).toThrow(/LOOPWRIGHT_PAYLOAD_KEYS_FILE: cannot read/);
      expect(() => parsePayloadKeys('k1:c2hvcnQ=')).toThrow(/must be 32 bytes/);
      expect(() => parsePayloadKeys(`${K1},${K1}`)).toThrow(/appears twice/);
      expect(() => parsePayloadKeys('no-separator')).toThrow(/LOOPWRIGHT_PAYLOAD_KEYS: entry 1/);
      const local = localPayloadKeys(dir);
      expect(localPayloadKeys(dir).keyring.currentId).toBe(local.keyring.currentId);
      expect(createDataConverter(local.keyring).payloadCodecs).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('which keys a process uses', () => {
  it('a cluster requires managed keys; a local dev server gets a key file beside its state; the CLI finds the same file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-keys-'));
    try {
      const db = path.join(dir, 'temporal.sqlite');
      // npm start on the local dev server: a key file beside the server's SQLite file.
      const local = parseConfig({ TEMPORAL_DB_FILE: db });
      expect(local.payloadKeys).toEqual({ spec: undefined, localDir: dir });
      const worker = resolvePayloadKeyring(local.payloadKeys);
      expect(worker.describe).toContain(path.join(dir, 'payload-keys'));
      expect(worker.describe).not.toMatch(/[A-Za-z0-9+/]{43}=/);
      // The CLI on the same machine encrypts with the same key, so the worker can read what it starts.
      expect(cliPayloadKeyring({ TEMPORAL_DB_FILE: db }).currentId).toBe(worker.keyring.currentId);
      expect(cliPayloadKeyring({ TEMPORAL_DB_FILE: db, TEMPORAL_ADDRESS: '127.0.0.1:7233' }).key(worker.keyring.currentId)).toEqual(worker.keyring.key(worker.keyring.currentId));

      // A cluster: no silent per-machine key (other workers could not read it).
      const cluster = parseConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_DB_FILE: db });
      expect(() => resolvePayloadKeyring(cluster.payloadKeys)).toThrow(/needs LOOPWRIGHT_PAYLOAD_KEYS/);
      expect(() => cliPayloadKeyring({ TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_DB_FILE: path.join(dir, 'elsewhere', 'x.sqlite') })).toThrow(/needs LOOPWRIGHT_PAYLOAD_KEYS/);
      // Keys from a mounted file, through the config's *_FILE handling.
      writeFileSync(path.join(dir, 'keys'), `${K1}\n${K2}\n`);
      const mounted = parseConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233', LOOPWRIGHT_PAYLOAD_KEYS_FILE: path.join(dir, 'keys') });
      expect(resolvePayloadKeyring(mounted.payloadKeys).keyring.ids).toEqual(['k1', 'k2']);
      expect(cliPayloadKeyring({ TEMPORAL_ADDRESS: 'temporal.example:7233', LOOPWRIGHT_PAYLOAD_KEYS_FILE: path.join(dir, 'keys') }).currentId).toBe('k2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('codec endpoint', () => {
  const TOKEN = 'codec-token-0123456789';
  const UI = 'http://localhost:8233';
  let app: FastifyInstance;
  let base: string;
  const codec = new EncryptionCodec(parsePayloadKeys(`${K1},${K2}`));
  const json = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const call = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const taxonomy = loadTaxonomyFile(bundledTaxonomyPath('general'));
    app = await createHttpApp({
      temporal: { client: {} as Client, taskQueue: 'unused' },
      pipeline: createTriagePipeline({ taxonomy, classifier: trainOfflineClassifier(taxonomy) }),
      audit: {} as AuditStore,
      policy: null,
      config: { apiTokens: ['api-token-not-for-codec'] },
      codec: { codec, tokens: [TOKEN], allowedOrigins: [UI], namespaces: ['default'] },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 60_000);
  afterAll(async () => app?.close());

  it('decodes and encodes in the codec-server format for a bearer token, and refuses without one', async () => {
    const [enc] = await codec.encode([payload({ text: CANARY })]);
    const headers = { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' };
    const res = await call('/codec/decode', { payloads: [json(enc!)] }, headers);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(body.payloads[0]!.metadata['encoding']!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toEqual({ text: CANARY });

    const encoded = (await (await call('/codec/encode', { payloads: [json(payload('hi'))] }, headers)).json()) as { payloads: Array<{ metadata: Record<string, string> }> };
    expect(Buffer.from(encoded.payloads[0]!.metadata[METADATA_KEY_ID]!, 'base64').toString()).toBe('k2');

    for (const h of [{}, { authorization: 'Bearer api-token-not-for-codec' }, { authorization: `Bearer ${TOKEN}x` }] as Array<Record<string, string>>) {
      expect((await call('/codec/decode', { payloads: [json(enc!)] }, { ...h, 'x-namespace': 'default' })).status).toBe(401);
    }
    expect((await call('/codec/decode', { payloads: [json(enc!)] }, { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'other' })).status).toBe(403);
    // The Temporal CLI (1.5) sends an empty X-Namespace: served, the token being the authorisation.
    expect((await call('/codec/decode', { payloads: [json(enc!)] }, { authorization: `Bearer ${TOKEN}`, 'x-namespace': '' })).status).toBe(200);
    expect((await call('/codec/decode', { payloads: 'nope' }, headers)).status).toBe(400);
  });

  it('CORS: the UI origin gets a preflight and credentials, any other origin is refused', async () => {
    const pre = await fetch(`${base}/codec/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-namespace' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(UI);
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    const evil = await fetch(`${base}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const [enc] = await codec.encode([payload('x')]);
    const evilPost = await call('/codec/decode', { payloads: [json(enc!)] }, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' });
    expect(evilPost.status).toBe(403);
  });

  it('a UI session: POST a token once, then the cookie decodes; a forged or missing cookie does not', async () => {
    const [enc] = await codec.encode([payload('session')]);
    expect((await call('/codec/session', { token: 'wrong' }, { origin: UI })).status).toBe(401);
    const login = await fetch(`${base}/codec/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: UI }, body: `token=${TOKEN}` });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^loopwright_codec=\d+\.[\w-]{43}; Path=\/codec; HttpOnly; SameSite=Lax/);
    const value = cookie.split(';')[0]!;
    const ok = await call('/codec/decode', { payloads: [json(enc!)] }, { origin: UI, cookie: value });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    // The sign-in form itself, for a person with a browser: served without a token, posting to its own origin.
    const form = await fetch(`${base}/codec/session`);
    expect(form.status).toBe(200);
    expect(await form.text()).toMatch(/<form method="post" action="\/codec\/session">/);
    expect(form.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const own = await fetch(`${base}/codec/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, body: `token=${TOKEN}` });
    expect(own.status).toBe(200);
    const foreign = await fetch(`${base}/codec/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `token=${TOKEN}` });
    expect(foreign.status).toBe(403);
    const forged = value.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    expect((await call('/codec/decode', { payloads: [json(enc!)] }, { origin: UI, cookie: forged })).status).toBe(401);
  });
});
