import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, PlaintextPayloadError } from '../../codec/aes-gcm-codec.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { workerDataConverter } from '../../codec/data-converter.js';
import { devKeyRing, KeyRing } from '../../codec/keyring.js';
import { InvalidVerificationInputError } from '@dws-verify/client';
import { tightenPolicy, validateVerificationInput } from '../../client/validate.js';
import { ConfigError } from '../../config/errors.js';
import { loadVerificationPolicy, policyVariables } from '../../config/verification-policy.js';
import {
  clampPolicy,
  contactChangeInputProblem,
  paymentMethodChangeInputProblem,
  policyBounds,
} from '../../workflows/input-contract.js';
import { defaultPolicy } from '../../workflows/types.js';

describe("the operator's policy and its hard bounds", function () {
  it('reads the operator policy from VERIFICATION_POLICY_*, defaults otherwise, and refuses a value beyond the hard bounds', function () {
    assert.deepEqual(loadVerificationPolicy({}), defaultPolicy);
    assert.deepEqual(loadVerificationPolicy({ VERIFICATION_POLICY_MAX_RESENDS: '1' }), {
      ...defaultPolicy,
      maxResends: 1,
    });
    for (const [field, variable] of Object.entries(policyVariables)) {
      const beyond = policyBounds[field as keyof typeof policyBounds].maximum + 1;
      assert.throws(
        () => loadVerificationPolicy({ [variable]: String(beyond) }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(variable),
      );
    }
    assert.throws(
      () => loadVerificationPolicy({ VERIFICATION_POLICY_RESEND_COOLDOWN_SECONDS: '0' }),
      ConfigError,
    );
  });

  it('lets a caller tighten the operator policy and refuses any looser field by name', function () {
    const operator = { ...defaultPolicy, maxResends: 2 };
    assert.deepEqual(tightenPolicy(operator, { maxResends: 1, resendCooldownSeconds: 60 }), {
      ...operator,
      maxResends: 1,
      resendCooldownSeconds: 60,
    });
    assert.deepEqual(tightenPolicy(operator, undefined), operator);
    const looser: [object, string][] = [
      [{ maxResends: 3 }, 'policy.maxResends'],
      [{ resendCooldownSeconds: 29 }, 'policy.resendCooldownSeconds'],
      [{ otpValiditySeconds: 301 }, 'policy.otpValiditySeconds'],
      [{ maxVerifyAttempts: 6 }, 'policy.maxVerifyAttempts'],
      [{ maxChallengeRounds: 4 }, 'policy.maxChallengeRounds'],
    ];
    for (const [asked, field] of looser) {
      assert.throws(
        () => tightenPolicy(operator, asked),
        (err: unknown) => err instanceof InvalidVerificationInputError && err.field === field,
      );
    }
  });

  it('sends the whole effective policy on, and refuses one beyond the hard bounds as the contract does', function () {
    const input = { customerId: 'c1', change: { email: 'a@example.com' } };
    assert.deepEqual(validateVerificationInput(input).policy, defaultPolicy);
    assert.throws(
      () => validateVerificationInput({ ...input, policy: { maxVerifyAttempts: 1_000_000 } }),
      (err: unknown) =>
        err instanceof InvalidVerificationInputError && err.field === 'policy.maxVerifyAttempts',
    );
  });

  it('in the workflow: clamps a policy beyond the bounds instead of refusing it, and refuses malformed input by field', function () {
    const loose = {
      otpValiditySeconds: 3600,
      maxVerifyAttempts: 1e6,
      maxResends: 10,
      resendCooldownSeconds: 0,
      maxChallengeRounds: 9,
    };
    const { policy, clamped } = clampPolicy(loose, defaultPolicy);
    assert.deepEqual(policy, {
      otpValiditySeconds: 600,
      maxVerifyAttempts: 5,
      maxResends: 4,
      resendCooldownSeconds: 30,
      maxChallengeRounds: 3,
    });
    assert.deepEqual(clamped.sort(), Object.keys(loose).sort());
    assert.deepEqual(clampPolicy(defaultPolicy, defaultPolicy), { policy: defaultPolicy, clamped: [] });

    const input = { customerId: 'c1', change: { email: 'a@example.com' } };
    assert.equal(contactChangeInputProblem({ ...input, policy: loose }), undefined);
    assert.deepEqual(contactChangeInputProblem({ ...input, policy: { maxResends: 'many' } }), {
      field: 'policy.maxResends',
      message: 'policy.maxResends must be integer',
    });
    assert.equal(contactChangeInputProblem({ ...input, change: {} })?.field, 'change');
    assert.equal(contactChangeInputProblem(null)?.field, '(body)');
    assert.equal(
      paymentMethodChangeInputProblem({
        wonderCustomerUuid: 'u-1',
        wonderReferenceNumber: 'R-1',
        update: {},
        confirmWith: {},
      })?.field,
      'confirmWith.customerId',
    );
  });
});

describe('plaintext payloads', function () {
  const keyRing = new KeyRing([{ id: 'k1', key: randomBytes(32) }]);
  const plain = defaultPayloadConverter.toPayload({ customerId: 'c1' });

  it('are refused by a codec told to, naming the encoding and not the content', async function () {
    const refusing = new AesGcmPayloadCodec(keyRing, { refusePlaintext: true });
    await assert.rejects(
      refusing.decode([plain]),
      (err: unknown) =>
        err instanceof PlaintextPayloadError &&
        err.message.includes('json/plain') &&
        !err.message.includes('c1'),
    );
    const [encrypted] = await refusing.encode([plain]);
    const [decoded] = await refusing.decode([encrypted!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { customerId: 'c1' });
  });

  it('pass through a codec by default (the client, the codec endpoint: an operator sees what was sent)', async function () {
    assert.deepEqual(await new AesGcmPayloadCodec(keyRing).decode([plain]), [plain]);
  });

  it("are refused by the worker's converter with a real key, and let through with the local dev key only", async function () {
    const folder = mkdtempSync(join(tmpdir(), 'plaintext-'));
    try {
      const devKeysPath = join(folder, 'codec-keys');
      const dev = devKeyRing(devKeysPath);
      const codecOf = (ring: KeyRing) =>
        workerDataConverter(ring, devKeysPath).payloadCodecs![0] as PayloadCodec;
      assert.deepEqual(await codecOf(dev).decode([plain]), [plain]);
      await assert.rejects(codecOf(keyRing).decode([plain]), PlaintextPayloadError);
      const beside = new KeyRing([{ id: dev.ids[0]!, key: randomBytes(32) }]);
      await assert.rejects(
        codecOf(beside).decode([plain]),
        PlaintextPayloadError,
        'a real key under the dev id',
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
