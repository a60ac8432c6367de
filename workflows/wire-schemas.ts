/**
 * The wire contract, written once: the JSON Schemas of what a verification takes, shows and returns.
 * `types.ts` derives the TypeScript types from these (json-schema-to-ts), the HTTP service validates
 * and publishes them, and the workflow and the client library check input with validators generated from
 * them (`npm run generate:validators`, checked by a unit test), so a new field or outcome cannot be added
 * in one place only. Plain data: the workflow bundle may import it.
 */

/**
 * The contract's version, major.minor: the minor grows when something is added that a client may ignore
 * (an optional input field, a state field), the major when a client built for the previous one could
 * break (a field removed or made required, a new step, verdict or outcome status, a message renamed).
 * docs/backend-client.md ("Versions and compatibility") says which client speaks which; CHANGELOG in
 * client/ records each change.
 */
export const wireContractVersion = '1.1';

export const customerIdSchema = {
  type: 'string',
  pattern: '^[0-9A-Za-z_-]{1,64}$',
  description: 'DWS customer id',
} as const;

export const mobileNoInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['countryCode', 'phoneNo'],
  properties: {
    countryCode: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'without "+", e.g. "65"' },
    phoneNo: { type: 'string', pattern: '^[0-9]{4,16}$' },
  },
} as const;

export const changeSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 254 },
    mobileNoInfo: mobileNoInfoSchema,
  },
  description: 'the new contact data: email, phone, or both',
} as const;

/** seed: Env, the risk data DWS collects; every field a string. */
export const riskEnvFields = [
  'appVersion',
  'clientIp',
  'deviceModel',
  'deviceTokenId',
  'language',
  'operateEntrance',
  'osType',
  'osVersion',
  'sessionId',
  'terminalType',
  'umidTokenId',
] as const;

const envString = { type: 'string', maxLength: 256 } as const;

export const riskEnvSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(riskEnvFields.map((name) => [name, envString])) as {
    readonly [Field in (typeof riskEnvFields)[number]]: typeof envString;
  },
} as const;

/**
 * A verification's policy. The minimum and maximum of each field are the hard bounds: the ceiling no start
 * can pass, whoever starts it (the workflow clamps a policy to them, workflows/input-contract.ts). Why each
 * bound is where it is: docs/http-api.md, "Policy". Inside them the operator sets the policy
 * (VERIFICATION_POLICY_*, docs/deploying.md) and a caller may only tighten it.
 */
export const policySchema = {
  type: 'object',
  additionalProperties: false,
  description:
    "tightens the operator's policy, field by field: a value looser than the operator's is refused naming the field (400 over HTTP); an absent field takes the operator's value",
  properties: {
    otpValiditySeconds: {
      type: 'integer',
      minimum: 30,
      maximum: 600,
      description:
        "how long one issued code may be answered; the workflow's timer, not the provider's. Lower is tighter",
    },
    maxVerifyAttempts: {
      type: 'integer',
      minimum: 1,
      maximum: 5,
      description: 'wrong codes per challenge before it ends ATTEMPTS_EXCEEDED. Lower is tighter',
    },
    maxResends: {
      type: 'integer',
      minimum: 0,
      maximum: 4,
      description: 'codes sent per challenge after the first. Lower is tighter',
    },
    resendCooldownSeconds: {
      type: 'integer',
      minimum: 30,
      maximum: 600,
      description: 'seconds from one code to the next resend. Higher is tighter',
    },
    maxChallengeRounds: {
      type: 'integer',
      minimum: 1,
      maximum: 3,
      description:
        'the consult challenge plus "with risk" challenges; bounds a provider that keeps asking. Lower is tighter',
    },
  },
} as const;

export const wonderLangSchema = { type: 'string', enum: ['zh-HK', 'zh-CN', 'en'] } as const;

/**
 * The merchant's own key for the customer at Wonder (Wonder's `reference_number`, at most 255 characters).
 * Required beside the uuid so the gateway can confirm the record is this customer's before it is written.
 */
export const wonderReferenceNumberSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  // Not `.`: it excludes line breaks in JavaScript and not elsewhere, and the document is read elsewhere.
  pattern: '^\\S([^\\n\\r\\u2028\\u2029]*\\S)?$',
  description:
    "the reference_number your backend keeps for this DWS customer's Wonder record; nothing is written at Wonder unless the record at customerUuid carries it",
} as const;

export const wonderSyncTargetSchema = {
  type: 'object',
  additionalProperties: false,
  // referenceNumber is required of every new start; flows started before it was (recorded in history
  // without it) reach the Wonder activity without it, which refuses them: see activities/wonder/validate.ts.
  required: ['customerUuid', 'referenceNumber'],
  properties: {
    customerUuid: {
      type: 'string',
      pattern: '^[0-9A-Za-z-]{1,64}$',
      description: "the customer's uuid at the Wonder gateway",
    },
    referenceNumber: wonderReferenceNumberSchema,
    lang: wonderLangSchema,
  },
  description: 'carry the verified change to this Wonder customer record afterwards',
} as const;

export const requestKeySchema = {
  type: 'string',
  pattern: '^[\\x21-\\x7e]{1,64}$',
  description: "the caller's idempotency key: a retried start with the same key returns the same run",
} as const;

export const businessSceneCodeSchema = {
  type: 'string',
  enum: ['MOBILE_AVAILABLE', 'MOBILE_UNAVAILABLE'],
} as const;

export const verificationInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId', 'change'],
  properties: {
    customerId: customerIdSchema,
    change: changeSchema,
    businessSceneCode: businessSceneCodeSchema,
    env: riskEnvSchema,
    language: {
      type: 'string',
      pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
      description:
        "the user's language (BCP 47): Wonder's x-i18n-lang when `wonder.lang` is not given (en* as en, zh-HK/-MO/-TW/-Hant as zh-HK, other zh as zh-CN; any other language leaves Wonder's default). DWS takes the language in `env.language`.",
    },
    policy: policySchema,
    wonder: wonderSyncTargetSchema,
    requestKey: requestKeySchema,
  },
} as const;

const clearableSchema = {
  anyOf: [{ type: 'string', minLength: 1, maxLength: 256 }, { type: 'null' }],
  description: 'null clears the field at Wonder; an absent field is left as it is',
} as const;

/**
 * A payment-method change's input (PaymentMethodChangeInput in types.ts, written by backend code only: no
 * HTTP route). Checked by the client library and by the workflow itself; the values themselves are the
 * Wonder activity's to judge.
 */
export const paymentMethodChangeInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['wonderCustomerUuid', 'wonderReferenceNumber', 'update'],
  properties: {
    wonderCustomerUuid: wonderSyncTargetSchema.properties.customerUuid,
    wonderReferenceNumber: wonderReferenceNumberSchema,
    update: {
      type: 'object',
      additionalProperties: false,
      properties: { default_payment_method: clearableSchema, default_payment_token: clearableSchema },
    },
    confirmWith: {
      type: 'object',
      additionalProperties: false,
      required: ['customerId'],
      properties: {
        customerId: customerIdSchema,
        businessSceneCode: businessSceneCodeSchema,
        env: riskEnvSchema,
      },
    },
    lang: wonderLangSchema,
    policy: policySchema,
  },
} as const;

/** The typed SMS code: checked by the HTTP schema, the client library and the workflow's validator. */
export const smsCodeSchema = {
  type: 'string',
  pattern: '^[0-9]{4,8}$',
  description: 'the SMS code',
} as const;

/**
 * A PIN as the wallet app encrypted it with the challenge's encryptionInfo: opaque to us and passed to
 * DWS untouched, so only its size and alphabet (base64, base64url or hex) are ours. Short enough forms
 * pass (a clear PIN too): whether it decrypts is the provider's to say, and a refusal there costs an attempt.
 */
export const encryptedPinSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9+/_-]{4,2048}={0,2}$',
  description:
    "for a PAYMENT_PASSWORD challenge: the PIN encrypted with the state's encryptionInfo (client/pin-encryption.ts)",
} as const;

export const otpSubmissionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code'],
  properties: {
    code: {
      anyOf: [smsCodeSchema, encryptedPinSchema],
      description: 'the SMS code (4 to 8 digits), or the encrypted PIN for a PAYMENT_PASSWORD challenge',
    },
  },
} as const;

export const cancelRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'kept in the outcome for operators',
    },
  },
} as const;

const isoTime = { type: 'string', format: 'date-time' } as const;

export const stepSchema = {
  type: 'string',
  enum: ['CONSULTING', 'CHALLENGING', 'AWAITING_INPUT', 'VERIFYING', 'MODIFYING', 'SYNCING_WONDER', 'DONE'],
} as const;

export const outcomeStatusSchema = {
  type: 'string',
  enum: ['MODIFIED', 'UPDATED', 'CANCELLED', 'EXPIRED', 'ATTEMPTS_EXCEEDED', 'REJECTED'],
  description: 'MODIFIED ends a contact change, UPDATED a Wonder payment-method change',
} as const;

export const wonderSyncSchema = {
  type: 'string',
  enum: ['NOT_REQUESTED', 'PENDING', 'SYNCED', 'FAILED'],
} as const;

export const challengeTypeSchema = { type: 'string', enum: ['sms', 'PAYMENT_PASSWORD'] } as const;

export const timelineEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['at', 'step', 'event'],
  properties: {
    at: { ...isoTime, description: 'from the workflow clock' },
    step: stepSchema,
    event: { type: 'string' },
    resultCode: { type: 'string' },
  },
} as const;

const timelineSchema = { type: 'array', items: timelineEntrySchema } as const;

function variant<const Required extends string, const Properties extends Record<string, unknown>>(
  required: readonly Required[],
  properties: Properties,
) {
  return { type: 'object', additionalProperties: false, required, properties } as const;
}

export const verdictSchema = {
  oneOf: [
    variant(['verdict'] as const, { verdict: { const: 'ACCEPTED' } } as const),
    variant(
      ['verdict', 'attemptsLeft'] as const,
      {
        verdict: { const: 'INCORRECT' },
        attemptsLeft: { type: 'integer' },
      } as const,
    ),
    variant(['verdict'] as const, { verdict: { const: 'EXPIRED' } } as const),
    variant(['verdict'] as const, { verdict: { const: 'ATTEMPTS_EXCEEDED' } } as const),
    variant(
      ['verdict'] as const,
      {
        verdict: { const: 'CLOSED' },
        outcome: { ...outcomeStatusSchema, description: 'how the flow ended while the code was queued' },
      } as const,
    ),
  ],
} as const;

export const resendAnswerSchema = {
  oneOf: [
    variant(
      ['honoured', 'resendsLeft', 'expiresAt'] as const,
      {
        honoured: { type: 'boolean', const: true, description: 'a new code was sent' },
        resendsLeft: { type: 'integer' },
        expiresAt: isoTime,
      } as const,
    ),
    variant(
      ['honoured', 'reason'] as const,
      {
        honoured: { type: 'boolean', const: false },
        reason: {
          type: 'string',
          enum: ['COOLDOWN', 'NO_RESENDS_LEFT', 'NOT_SMS', 'NOT_AWAITING_INPUT', 'SEND_BUDGET_EXCEEDED'],
          description:
            "SEND_BUDGET_EXCEEDED: the customer's codes per window are spent; the code already sent stays valid and no resend was used",
        },
        retryAfterSeconds: {
          type: 'integer',
          description: 'with COOLDOWN and SEND_BUDGET_EXCEEDED; also sent as Retry-After',
        },
        message: {
          type: 'string',
          description:
            'with SEND_BUDGET_EXCEEDED: the limit reached, a sentence the app can show ("at most 5 codes per 10 minutes are sent to one customer")',
        },
      } as const,
    ),
  ],
} as const;

const submissionKey = {
  type: 'string',
  description: 'the Idempotency-Key the submission was sent with',
} as const;

/** One code or resend submission's answer, under the caller's idempotency key. */
export const submissionSchema = {
  oneOf: [
    variant(
      ['kind', 'key', 'at', 'verdict'] as const,
      {
        kind: { const: 'otp' },
        key: submissionKey,
        at: { ...isoTime, description: 'when the answer was given (workflow clock)' },
        verdict: verdictSchema,
      } as const,
    ),
    variant(
      ['kind', 'key', 'at', 'answer'] as const,
      {
        kind: { const: 'resend' },
        key: submissionKey,
        at: { ...isoTime, description: 'when the answer was given (workflow clock)' },
        answer: resendAnswerSchema,
      } as const,
    ),
  ],
} as const;

export const stateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['step', 'round', 'attemptsLeft', 'resendsLeft', 'wonderSync', 'timeline'],
  properties: {
    customerId: {
      type: 'string',
      description:
        'the DWS customer who proves possession; absent for a payment-method change without confirmation',
    },
    wonderCustomerUuid: {
      type: 'string',
      description:
        'the Wonder customer record the flow changes (a payment-method change, or a contact change carried to Wonder)',
    },
    step: stepSchema,
    round: {
      type: 'integer',
      description: '1 for the consult\'s challenge, 2+ for challenges the provider adds ("with risk")',
    },
    challengeType: challengeTypeSchema,
    maskedDestination: {
      type: 'string',
      description: 'as the provider renders it, already masked (e.g. "+60******6353")',
    },
    attemptsLeft: { type: 'integer' },
    resendsLeft: { type: 'integer' },
    expiresAt: { ...isoTime, description: 'when the current code stops being accepted' },
    resendAvailableAt: { ...isoTime, description: 'when a resend is next allowed' },
    lastResultCode: { type: 'string' },
    encryptionInfo: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'PAYMENT_PASSWORD: the public key material the app encrypts the PIN with, as DWS gave it (e.g. algorithm, publicKey, salt)',
    },
    outcome: outcomeStatusSchema,
    wonderSync: wonderSyncSchema,
    timeline: timelineSchema,
    submissions: {
      type: 'array',
      items: submissionSchema,
      description:
        'the answers given to code and resend submissions, by idempotency key, oldest first (the last 20): a submission whose answer was lost is found here',
    },
  },
} as const;

const rejectedFields = {
  resultCode: { type: 'string', description: "the provider's result code, or ours (docs/backend-client.md)" },
  resultMessage: { type: 'string' },
  failedStep: stepSchema,
  retryAfterSeconds: {
    type: 'integer',
    description:
      'with SEND_BUDGET_EXCEEDED: seconds from the end of the flow until the customer may be sent a code again (resultMessage says which limit)',
  },
  field: {
    type: 'string',
    description: 'with INVALID_INPUT: the input field the workflow refused, as a dotted path',
  },
} as const;

function outcomeBranches<const Base extends Record<string, unknown>, const BaseRequired extends string>(
  base: Base,
  baseRequired: readonly BaseRequired[],
) {
  const branch = <
    const Status extends string,
    const Extra extends Record<string, unknown>,
    const R extends string,
  >(
    status: Status,
    extra: Extra,
    required: readonly R[],
  ) =>
    ({
      type: 'object',
      additionalProperties: false,
      required: ['status', ...baseRequired, ...required],
      properties: { status: { const: status }, ...base, ...extra },
    }) as const;
  return branch;
}

const contactOutcome = outcomeBranches(
  { customerId: { type: 'string' }, timeline: timelineSchema } as const,
  ['customerId', 'timeline'] as const,
);

export const verificationOutcomeSchema = {
  oneOf: [
    contactOutcome(
      'MODIFIED',
      { wonderSync: wonderSyncSchema, wonderFailure: { type: 'string' } } as const,
      ['wonderSync'] as const,
    ),
    contactOutcome('CANCELLED', { reason: { type: 'string' } } as const, [] as const),
    contactOutcome('EXPIRED', {} as const, [] as const),
    contactOutcome('ATTEMPTS_EXCEEDED', {} as const, [] as const),
    contactOutcome('REJECTED', rejectedFields, ['resultCode', 'resultMessage', 'failedStep'] as const),
  ],
} as const;

const paymentMethodOutcome = outcomeBranches(
  { wonderCustomerUuid: { type: 'string' }, timeline: timelineSchema } as const,
  ['wonderCustomerUuid', 'timeline'] as const,
);
const fieldList = { type: 'array', items: { type: 'string' } } as const;

export const paymentMethodChangeOutcomeSchema = {
  oneOf: [
    paymentMethodOutcome(
      'UPDATED',
      { changed: fieldList, cleared: fieldList } as const,
      ['changed', 'cleared'] as const,
    ),
    paymentMethodOutcome('CANCELLED', { reason: { type: 'string' } } as const, [] as const),
    paymentMethodOutcome('EXPIRED', {} as const, [] as const),
    paymentMethodOutcome('ATTEMPTS_EXCEEDED', {} as const, [] as const),
    paymentMethodOutcome('REJECTED', rejectedFields, ['resultCode', 'resultMessage', 'failedStep'] as const),
  ],
} as const;

/**
 * What the start answers (the `challengeSent` update): the challenge the user now has to answer, or the
 * outcome when the flow ended before any code went out (e.g. REJECTED at the consult).
 */
export const challengeAnswerSchema = {
  oneOf: [
    variant(
      ['challengeType', 'attemptsLeft', 'resendsLeft', 'expiresAt', 'round'] as const,
      {
        challengeType: challengeTypeSchema,
        maskedDestination: stateSchema.properties.maskedDestination,
        attemptsLeft: { type: 'integer' },
        resendsLeft: { type: 'integer' },
        expiresAt: stateSchema.properties.expiresAt,
        round: stateSchema.properties.round,
      } as const,
    ),
    variant(['outcome'] as const, { outcome: verificationOutcomeSchema } as const),
  ],
} as const;

/**
 * The events pushed to a caller's webhook endpoints (docs/webhooks.md): Standard Webhooks' shape
 * (`type`, `timestamp`, `data`) plus the `id` sent as `webhook-id`. They carry ids, outcomes and result
 * codes, and contact data only masked: never a code, a PIN, a full phone number or email address.
 */
export const webhookEventTypes = ['verification.completed', 'contact.changed'] as const;

const maskedPhone = {
  type: 'string',
  description: 'masked: country code and at most the last four digits, e.g. "+65******7777"',
} as const;
const maskedEmail = {
  type: 'string',
  description: 'masked: the mailbox name shows its ends only, the domain stays, e.g. "j*****y@example.com"',
} as const;

const eventId = {
  type: 'string',
  pattern: '^evt_[0-9A-Za-z_]{1,120}$',
  description:
    'the event id, also sent as the webhook-id header: the same on every attempt and every redelivery, so a receiver deduplicates by it',
} as const;

const eventSubject = {
  verificationId: {
    type: 'string',
    description: 'the verification (workflow) id: contact-change-<customerId>',
  },
  runId: { type: 'string', description: 'the run of that verification this event is about' },
  customerId: { type: 'string', description: 'the DWS customer' },
  caller: {
    type: 'string',
    description: 'the caller that started the verification, whose endpoints receive it',
  },
  requestKey: { ...requestKeySchema, description: "the start's requestKey, when it had one" },
} as const;

export const verificationCompletedEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'timestamp', 'data'],
  properties: {
    id: eventId,
    type: { type: 'string', const: 'verification.completed' },
    timestamp: { ...isoTime, description: 'when the verification finished (workflow clock)' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['verificationId', 'runId', 'customerId', 'caller', 'outcome', 'change'],
      properties: {
        ...eventSubject,
        outcome: outcomeStatusSchema,
        resultCode: {
          type: 'string',
          description:
            "the provider's result code of the flow's last answer (SUCCESS for MODIFIED; the refusal's code for REJECTED, ours such as INVALID_INPUT included)",
        },
        failedStep: { ...stepSchema, description: 'REJECTED only: the step the refusal came at' },
        change: {
          type: 'object',
          additionalProperties: false,
          properties: { email: maskedEmail, phone: maskedPhone },
          description: 'what was asked for, masked (applied only when outcome is MODIFIED)',
        },
        maskedDestination: {
          type: 'string',
          description: 'where the last code went, as DWS rendered it (absent for a PIN or before any code)',
        },
        wonderSync: wonderSyncSchema,
      },
    },
  },
} as const;

export const contactChangedEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'timestamp', 'data'],
  properties: {
    id: eventId,
    type: { type: 'string', const: 'contact.changed' },
    timestamp: { ...isoTime, description: 'when the change was applied at DWS (workflow clock)' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['verificationId', 'runId', 'customerId', 'caller', 'changes'],
      properties: {
        ...eventSubject,
        changes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['contact', 'newValue'],
            properties: {
              contact: { type: 'string', enum: ['email', 'phone'] },
              newValue: { type: 'string', description: 'the new value, masked' },
              previousValue: {
                type: 'string',
                description:
                  'phone only, when known: the number the first code went to (DWS renders it masked), which was the number on file. For the full old address, read your own records before updating them: that is where the notice goes',
              },
            },
          },
        },
      },
    },
  },
} as const;

export const webhookEventSchema = {
  oneOf: [verificationCompletedEventSchema, contactChangedEventSchema],
} as const;
