/**
 * Wonder wire types for the customer API, and the Wonder activity's contract. PUT /customers/:uuid comes
 * from the seed (shared/seeds/wonder-put-customer.txt); create, get-by-ref and echo from
 * developer.wonder.today.
 *
 * Partial updates. The seed says name, email and phone are left unchanged when empty ("为空,则不修改"),
 * while default_payment_method and default_payment_token may be changed to empty ("允许修改为空"), which
 * clears them. The same empty string therefore means "leave it" for one field and "clear it" for
 * another, which is the kind of rule that gets mixed up at a call site. Callers never write wire bodies:
 * they write a WonderCustomerUpdate, in which
 *   - a field that is absent is left unchanged (all five fields);
 *   - name, email and phone are non-empty when present (the validator refuses "" and names the field:
 *     omit the field instead; TypeScript cannot exclude "" from `string`, so that part is a runtime check);
 *   - default_payment_method and default_payment_token take `null` to clear.
 * toPutCustomerBody (update.ts) is the one place that turns that into the wire form, where clearing is "".
 * `null` rather than a `{ clear: true }` wrapper because it survives Temporal's JSON payloads unchanged and
 * reads naturally: "set it to nothing".
 */

export const wonderPaths = {
  customers: '/svc/payment/api/v1/openapi/customers',
  customer: (uuid: string) => `/svc/payment/api/v1/openapi/customers/${encodeURIComponent(uuid)}`,
  customerByRef: (ref: string) => `/svc/payment/api/v1/openapi/customers/ref/${encodeURIComponent(ref)}`,
  echo: '/svc/payment/api/v1/openapi/echo',
} as const;

export const wonderPaymentMethods = [
  'Credit Card',
  'Alipay',
  'Wechat Pay',
  'Google Pay',
  'FPS',
  'Octopus Business',
  'Union Pay',
  'Payment Token',
] as const;

/** seed: default_payment_method possible values. */
export type WonderPaymentMethod = (typeof wonderPaymentMethods)[number];

export function isWonderPaymentMethod(value: unknown): value is WonderPaymentMethod {
  return typeof value === 'string' && (wonderPaymentMethods as readonly string[]).includes(value);
}

/** seed: default_payment_token.token_type possible values. */
export type WonderTokenType = 'CreditCard' | 'WechatPayAutoDebit' | 'AlipayAutoDebit';

/** seed: x-i18n-lang. */
export type WonderLang = 'zh-HK' | 'zh-CN' | 'en';

export const wonderLangs: readonly WonderLang[] = ['zh-HK', 'zh-CN', 'en'];

/** The change a caller asks for (see the header comment for the rules). */
export interface WonderCustomerUpdate {
  /** absent: unchanged; never "" */
  name?: string;
  /** absent: unchanged; never "" */
  email?: string;
  /** absent: unchanged; never "" */
  phone?: string;
  /** absent: unchanged; null: cleared */
  default_payment_method?: WonderPaymentMethod | null;
  /** absent: unchanged; null: cleared; otherwise the token value of one of the customer's payment tokens */
  default_payment_token?: string | null;
}

export type WonderUpdateField = keyof WonderCustomerUpdate;

export const wonderUpdateFields: readonly WonderUpdateField[] = [
  'name',
  'email',
  'phone',
  'default_payment_method',
  'default_payment_token',
];

/** PUT /customers/:uuid request body, as sent. Only toPutCustomerBody builds one. */
export interface PutCustomerRequestBody {
  name?: string;
  email?: string;
  phone?: string;
  /** "" clears */
  default_payment_method?: WonderPaymentMethod | '';
  /** "" clears */
  default_payment_token?: string;
}

export interface WonderCreditCard {
  number?: string;
  exp_month?: string;
  exp_year?: string;
  holder_name?: string;
  brand?: string;
  billing_currency?: string;
}

export interface WonderPaymentToken {
  token_type: WonderTokenType;
  token: string;
  state: string;
  verify_url: string | null;
  verify_uuid: string;
  /** 默认卡: the customer's default card */
  default: boolean;
  credit_card?: WonderCreditCard;
}

export interface WonderCustomer {
  name?: string;
  email?: string;
  phone?: string;
  reference_number: string;
  default_payment_method?: WonderPaymentMethod | (string & {});
  uuid: string;
  default_payment_token?: WonderPaymentToken | null;
}

export interface EchoRequestBody {
  message: string;
}

/** What every call to Wonder carries besides its body. */
export interface WonderRequestOptions {
  /** X-Request-ID: the idempotency key, made once per logical call and reused by every retry */
  requestId: string;
  /** x-i18n-lang: the language of the provider's messages */
  lang?: WonderLang;
  /** aborts the exchange, e.g. the activity's cancellation signal */
  signal?: AbortSignal | undefined;
}

export interface PutWonderCustomerInput {
  /** X-Request-ID of the PUT; the same value on every retry of this logical call */
  requestId: string;
  /** Wonder's customer uuid (data.customer.uuid) */
  customerUuid: string;
  /**
   * The merchant's reference_number for the customer whose change this is, from the backend's own mapping.
   * Nothing is written unless the gateway's record under that reference is `customerUuid` (one read first):
   * the uuid alone says nothing about whose record it is. Required; a flow started before it existed
   * arrives without it and is refused as invalid input, since its ownership cannot be checked.
   */
  referenceNumber: string;
  update: WonderCustomerUpdate;
  lang?: WonderLang;
}

/** Identifiers and field names only: it enters workflow history. */
export interface PutWonderCustomerResult {
  customer: {
    uuid: string;
    reference_number: string;
    /** fields the update set to a new value */
    changed: WonderUpdateField[];
    /** fields the update cleared (default_payment_method, default_payment_token) */
    cleared: WonderUpdateField[];
  };
}

/** The Wonder activities as the workflows call them and activities.ts makes them. */
export interface WonderActivities {
  putWonderCustomer(input: PutWonderCustomerInput): Promise<PutWonderCustomerResult>;
}
