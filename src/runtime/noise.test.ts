/** Dropout noise: WebCrypto's AES-CTR keystream equals OpenSSL's aes-128-ctr, so runs before and after match. */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { deriveSeed, Rng } from '../util/rng.js';
import { NoiseSource } from './noise.js';

/** The noise as the Node-only implementation drew it (createCipheriv, 128-bit counter (step, 0)). */
function openssl(seed: number, step: number, total: number): Uint16Array {
  const rng = new Rng(deriveSeed(seed, 'DROP'));
  const key = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) key.writeUInt32LE(rng.u32(), i * 4);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(Math.floor(step / 2 ** 32), 0);
  iv.writeUInt32BE(step >>> 0, 4);
  const bytes = Buffer.from(createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(total * 2)));
  return new Uint16Array(bytes.buffer, bytes.byteOffset, total);
}

test('noise is the OpenSSL aes-128-ctr keystream, split in order, for any step', async () => {
  const noise = new NoiseSource(42);
  for (const step of [0, 1, 77, 2 ** 32 + 5]) {
    const parts = await noise.draw(step, [5, 0, 1000, 3]);
    assert.deepEqual(
      parts.map((p) => p.length),
      [5, 0, 1000, 3],
    );
    const all = Uint16Array.from(parts.flatMap((p) => [...p]));
    assert.deepEqual(all, openssl(42, step, 1008), `step ${step}`);
  }
  const other = await new NoiseSource(43).draw(0, [8]);
  assert.notDeepEqual(other[0], (await noise.draw(0, [8]))[0], 'the seed keys the stream');
});
