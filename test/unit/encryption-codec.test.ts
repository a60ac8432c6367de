import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  PayloadDecryptionError,
} from '../../codec/aes-gcm-codec.js';
import { KeyRing, devKeyRing, keyRingFromEnv, loadKeyRing } from '../../codec/keyring.js';
import { ConfigError } from '../../config/errors.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring = (...keys: Array<[string, Buffer]>) => new KeyRing(keys.map(([id, key]) => ({ id, key })));
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const secret = { otp: '482913', phone: '+85291234567', email: 'ana.lima@example.com' };

function plain(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

describe('AES-GCM payload codec', function () {
  it('round-trips a payload and hides its content and original encoding', async function () {
    const codec = new AesGcmPayloadCodec(ring(['k1', k1]));
    const original = plain(secret);
    const [encrypted] = await codec.encode([original]);
    assert.ok(encrypted);
    assert.equal(text(encrypted.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encrypted.metadata?.[KEY_ID_METADATA_KEY]), 'k1');
    assert.deepEqual(Object.keys(encrypted.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA_KEY].sort());
    for (const value of Object.values(secret)) assert.ok(!text(encrypted.data).includes(value));
    assert.ok(!text(encrypted.data).includes('json/plain'));

    const [decoded] = await codec.decode([encrypted]);
    assert.ok(decoded);
    assert.equal(text(decoded.metadata?.encoding), 'json/plain');
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded), secret);
  });

  it('uses a fresh IV for every encode, so equal values give different ciphertexts', async function () {
    const codec = new AesGcmPayloadCodec(ring(['k1', k1]));
    const [a, b] = await codec.encode([plain(secret), plain(secret)]);
    const [c] = await codec.encode([plain(secret)]);
    assert.ok(a?.data && b?.data && c?.data);
    assert.notDeepEqual(Buffer.from(a.data), Buffer.from(b.data));
    assert.notDeepEqual(Buffer.from(a.data), Buffer.from(c.data));
    assert.notDeepEqual(Buffer.from(a.data).subarray(0, 12), Buffer.from(b.data).subarray(0, 12));
  });

  it('refuses a tampered ciphertext, IV, tag or key id', async function () {
    const codec = new AesGcmPayloadCodec(ring(['k1', k1], ['k0', k2]));
    const [encrypted] = await codec.encode([plain(secret)]);
    assert.ok(encrypted?.data);
    const length = encrypted.data.length;
    for (const index of [0, 12, Math.floor(length / 2), length - 1]) {
      const data = Buffer.from(encrypted.data);
      data[index] = data[index]! ^ 0x01;
      await assert.rejects(
        codec.decode([{ ...encrypted, data }]),
        (err: unknown) =>
          err instanceof PayloadDecryptionError && /key id k1 failed authentication/.test(err.message),
      );
    }
    const relabelled = {
      ...encrypted,
      metadata: { ...encrypted.metadata, [KEY_ID_METADATA_KEY]: Buffer.from('k0') },
    };
    await assert.rejects(codec.decode([relabelled]), /key id k0 failed authentication/);
    await assert.rejects(codec.decode([{ ...encrypted, data: encrypted.data.subarray(0, 20) }]), /too short/);
  });

  it('names an unknown key id and the ring it looked in', async function () {
    const [encrypted] = await new AesGcmPayloadCodec(ring(['k9', k1])).encode([plain(secret)]);
    assert.ok(encrypted);
    await assert.rejects(
      new AesGcmPayloadCodec(ring(['k2', k2], ['k1', k1])).decode([encrypted]),
      (err: unknown) =>
        err instanceof PayloadDecryptionError &&
        err.message.includes('key id k9, which is not in the key ring (k2, k1)') &&
        err.message.includes('TEMPORAL_CODEC_KEYS') &&
        !err.message.includes(k1.toString('base64')),
    );
  });

  it('after rotation reads payloads written under the old key and writes new ones under the new key', async function () {
    const before = new AesGcmPayloadCodec(ring(['k1', k1]));
    const after = new AesGcmPayloadCodec(ring(['k2', k2], ['k1', k1]));
    const [old] = await before.encode([plain(secret)]);
    assert.ok(old);
    const [oldDecoded] = await after.decode([old]);
    assert.ok(oldDecoded);
    assert.deepEqual(defaultPayloadConverter.fromPayload(oldDecoded), secret);

    const [fresh] = await after.encode([plain('new')]);
    assert.ok(fresh);
    assert.equal(text(fresh.metadata?.[KEY_ID_METADATA_KEY]), 'k2');
    await assert.rejects(before.decode([fresh]), /key id k2, which is not in the key ring/);
  });

  it('passes payloads that are not encrypted through decode unchanged', async function () {
    const codec = new AesGcmPayloadCodec(ring(['k1', k1]));
    const payloads = [plain(secret), plain(null), plain(new Uint8Array([1, 2, 3]))];
    const decoded = await codec.decode(payloads);
    assert.deepEqual(decoded, payloads);
  });
});

describe('codec key ring', function () {
  const b64 = (key: Buffer) => key.toString('base64');

  it('reads TEMPORAL_CODEC_KEYS with the first key as primary', function () {
    const keys = keyRingFromEnv({ TEMPORAL_CODEC_KEYS: `k2:${b64(k2)}, k1:${k1.toString('base64url')}` });
    assert.ok(keys);
    assert.equal(keys.primary.id, 'k2');
    assert.deepEqual(keys.ids, ['k2', 'k1']);
    assert.deepEqual(keys.get('k1')?.key.export(), k1);
  });

  it('reads TEMPORAL_CODEC_KEYS_FILE, with comments and one key per line', function () {
    const dir = mkdtempSync(join(tmpdir(), 'codec-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, `# rotated 2024-05\nk2:${b64(k2)}\n\nk1:${b64(k1)}\n`);
      assert.deepEqual(keyRingFromEnv({ TEMPORAL_CODEC_KEYS_FILE: file })?.ids, ['k2', 'k1']);
      assert.throws(
        () => keyRingFromEnv({ TEMPORAL_CODEC_KEYS_FILE: join(dir, 'missing') }),
        /^ConfigError: TEMPORAL_CODEC_KEYS_FILE names .*missing, which cannot be read\.$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is undefined without configuration, and loadKeyRing then refuses unless the dev key is allowed', function () {
    assert.equal(keyRingFromEnv({}), undefined);
    assert.throws(
      () => loadKeyRing({}, { allowDevKey: false }),
      /TEMPORAL_CODEC_KEYS or TEMPORAL_CODEC_KEYS_FILE must be set\./,
    );
  });

  it('names the variable in one sentence and never prints key bytes when malformed', function () {
    const short = randomBytes(16).toString('base64');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ TEMPORAL_CODEC_KEYS: `k1:${short}` }, /TEMPORAL_CODEC_KEYS is malformed at entry 1/],
      [{ TEMPORAL_CODEC_KEYS: `k2:${b64(k2)},${b64(k1)}` }, /TEMPORAL_CODEC_KEYS is malformed at entry 2/],
      [
        { TEMPORAL_CODEC_KEYS: `k1:${b64(k1)},k1:${b64(k2)}` },
        /TEMPORAL_CODEC_KEYS repeats key id k1 at entry 2/,
      ],
      [{ TEMPORAL_CODEC_KEYS: `bad id:${b64(k1)}` }, /TEMPORAL_CODEC_KEYS has an invalid key id at entry 1/],
      [{ TEMPORAL_CODEC_KEYS: ' , ' }, /TEMPORAL_CODEC_KEYS holds no key/],
      [{ TEMPORAL_CODEC_KEYS: `k1:${b64(k1)}`, TEMPORAL_CODEC_KEYS_FILE: '/x' }, /both set/],
    ];
    for (const [env, expected] of cases) {
      assert.throws(
        () => keyRingFromEnv(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          expected.test(err.message) &&
          !err.message.includes('\n') &&
          (err.message.match(/\.\s/g) ?? []).length === 0 &&
          ![short, b64(k1), b64(k2)].some((key) => err.message.includes(key)),
      );
    }
  });

  it('refuses a key id cut from its own key, and never shows key bytes when inspected', function () {
    const id = b64(k1).slice(0, 16).replace(/[+/]/g, 'x');
    const key = Buffer.from(b64(k1).replace(/[+/]/g, 'x'), 'base64');
    assert.throws(() => ring([id, key]), /uses part of its own key as its id/);
    const shown = inspect(ring(['k1', k1]), { depth: 5 }) + JSON.stringify(ring(['k1', k1]));
    assert.ok(!shown.includes(b64(k1)) && !shown.includes(k1.toString('hex')));
  });

  it('keeps the dev key in a private file that later starts reuse', function () {
    const dir = mkdtempSync(join(tmpdir(), 'codec-dev-'));
    try {
      const file = join(dir, '.temporal', 'codec-keys');
      const first = devKeyRing(file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const second = devKeyRing(file);
      assert.equal(second.primary.id, first.primary.id);
      assert.deepEqual(second.primary.key.export(), first.primary.key.export());
      assert.ok(!first.primary.id.includes(first.primary.key.export().toString('base64').slice(0, 8)));
      assert.match(readFileSync(file, 'utf8'), /^# .*dev server only/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
