import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toRestFrame } from '../../src/core/spectrum/model';

test('rest frame divides observed wavelengths by 1 + z', () => {
  const rest = toRestFrame([6563 * 1.1, 4861 * 1.1], 0.1);
  assert.ok(Math.abs(rest[0] - 6563) < 1e-9);
  assert.ok(Math.abs(rest[1] - 4861) < 1e-9);
});
