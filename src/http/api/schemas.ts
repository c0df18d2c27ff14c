import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, PAYMENT_STATUSES } from '../../core/transitions.js';

/**
 * The native API's request and response schemas. Fastify validates requests with them and @fastify/swagger
 * turns the same objects into the OpenAPI 3.1 document, so the documentation cannot drift from the checks.
 */

const Email = Type.String({ format: 'email', maxLength: 254, examples: ['ana@example.ro'] });

export const PartySchema = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('company')])),
    first_name: Type.String({ minLength: 1, maxLength: 100, examples: ['Ana'] }),
    last_name: Type.String({ minLength: 1, maxLength: 100, examples: ['Pop'] }),
    email: Email,
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{6,20}$', description: 'digits, optionally with a leading +', examples: ['+40712345678'] })),
    address: Type.Optional(Type.String({ maxLength: 500, examples: ['Str. Lăpușneanu 12, ap. 3'] })),
    city: Type.Optional(Type.String({ maxLength: 100, examples: ['Iași'] })),
    county: Type.Optional(Type.String({ maxLength: 100, examples: ['Iași'] })),
    zip_code: Type.Optional(Type.String({ maxLength: 20, examples: ['700057'] })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2', examples: ['RO'] })),
    company: Type.Optional(Type.String({ maxLength: 200 })),
    fiscal_number: Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: false, $id: 'Party' },
);

export const CreatePaymentBody = Type.Object(
  {
    connection: Type.String({ minLength: 1, maxLength: 64, description: 'connection id or code', examples: ['netopia'] }),
    order_id: Type.String({ minLength: 1, maxLength: 64, description: "the merchant's order reference", examples: ['ORDER-1'] }),
    amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (bani, cents): 4990 is 49.90 RON', examples: [4990] }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['RON'] }),
    description: Type.String({ minLength: 1, maxLength: 500, examples: ['Cafea boabe 1kg'] }),
    billing: Type.Ref(PartySchema),
    shipping: Type.Optional(Type.Ref(PartySchema)),
    return_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, examples: ['https://shop.example.ro/comanda/ORDER-1'] })),
    expires_at: Type.Optional(Type.String({ format: 'date-time', examples: ['2026-12-31T21:59:59Z'] })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean(), Type.Null()]), {
        maxProperties: 50,
        examples: [{ cart_id: 'C-1042' }],
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

const Timestamp = Type.String({ format: 'date-time' });

export const AttemptSchema = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  provider: Type.String(),
  status: Type.String({
    description:
      'created, processing, authorized, captured, partially_refunded, refunded, failed, canceled or unknown. unknown: the processor may have carried out the start (or 3-D Secure completion) but its answer was lost; the payment takes no new attempt until the processor says. With action outcome_unknown the hub asks the processor within seconds; with outcome_unknown_check_back_office the processor has no status check and the operator resolves it in its back office.',
  }),
  amount: Type.Integer(),
  currency: Type.String(),
  processor_reference: Type.Union([Type.String(), Type.Null()]),
  action: Type.Union([Type.String(), Type.Null()]),
  error_code: Type.Union([Type.String(), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
  pan_masked: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const PaymentSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment'),
    connection_id: Type.String(),
    order_id: Type.String(),
    amount: Type.Integer(),
    currency: Type.String(),
    description: Type.String(),
    status: Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s))),
    amount_authorized: Type.Integer(),
    amount_captured: Type.Integer(),
    amount_refunded: Type.Integer(),
    paid_late: Type.Boolean({ description: 'captured after the payment had expired or been canceled' }),
    payment_url: Type.String(),
    return_url: Type.Union([Type.String(), Type.Null()]),
    expires_at: Type.Union([Timestamp, Type.Null()]),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    created_at: Timestamp,
    updated_at: Timestamp,
    attempts: Type.Optional(Type.Array(AttemptSchema)),
    notifications: Type.Optional(
      Type.Array(
        Type.Object({
          id: Type.String(),
          provider: Type.String(),
          attempt_id: Type.Union([Type.String(), Type.Null()]),
          received_at: Timestamp,
          status: Type.String(),
          summary: Type.Unknown(),
          error: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
    ),
  },
  { additionalProperties: true },
);

export const ListPaymentsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s)))),
    order_id: Type.Optional(Type.String({ maxLength: 64 })),
    connection: Type.Optional(Type.String({ maxLength: 64 })),
    created_gte: Type.Optional(Type.String({ format: 'date-time' })),
    created_lte: Type.Optional(Type.String({ format: 'date-time' })),
    starting_after: Type.Optional(Type.String({ maxLength: 64, description: 'cursor: the next_cursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1 to 100, default 20' })),
  },
  { additionalProperties: false },
);
export type ListPaymentsQuery = Static<typeof ListPaymentsQuery>;

export const CreateMerchantBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, examples: ['Cafeaua Bună SRL'] }) },
  { additionalProperties: false },
);

export const CreateConnectionBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64, examples: ['netopia'] }),
    provider: Type.String({ description: 'netopia-v1, netopia-v2, multisafepay, nexi or volt', examples: ['netopia-v1'] }),
    environment: Type.Union([Type.Literal('live'), Type.Literal('sandbox'), Type.Literal('emulator')], { examples: ['emulator'] }),
    credentials: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'provider-specific; encrypted at rest and never returned' })),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const UpdateConnectionBody = Type.Object(
  {
    credentials: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
  },
  { additionalProperties: false },
);

export const EventTypeSchema = Type.Union([Type.Literal('*'), ...EVENT_TYPES.map((e) => Type.Literal(e))]);

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, examples: ['https://shop.example.ro/webhooks/incasso'] }),
    events: Type.Optional(Type.Array(EventTypeSchema, { minItems: 1, uniqueItems: true, examples: [['payment.paid', 'payment.refunded']] })),
  },
  { additionalProperties: false },
);

export const UpdateWebhookEndpointBody = Type.Object(
  {
    url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
    events: Type.Optional(Type.Array(EventTypeSchema, { minItems: 1, uniqueItems: true })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
  },
  { additionalProperties: false },
);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Stripe semantics: same key and body → the stored response; other body → 422' }),
  ),
});

const Language = Type.Union([Type.Literal('ro'), Type.Literal('en'), Type.Literal('it')], { description: "the console's language for this user" });

/** The operator creates any console user: the operator's own, or a merchant's admin or viewer. */
export const CreateUserBody = Type.Object(
  {
    email: Email,
    role: Type.Union([Type.Literal('operator'), Type.Literal('admin'), Type.Literal('viewer')]),
    merchant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'required for admin and viewer, absent for operator' })),
    language: Type.Optional(Language),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

/** A merchant creates admins and viewers of its own. */
export const CreateMerchantUserBody = Type.Object(
  { email: Email, role: Type.Union([Type.Literal('admin'), Type.Literal('viewer')]), language: Type.Optional(Language) },
  { additionalProperties: false },
);
export type CreateMerchantUserBody = Static<typeof CreateMerchantUserBody>;

export const CreateApiKeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, description: 'What the key is for, to tell keys apart', examples: ['magazin online'] }) },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

/** A payment's id in a path. */
export const PaymentIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'the payment id', examples: ['pay_01kc2v7q8m3j5n6p7r8s9t0vwx'] }),
});

/** The problem a cancel answers when the payment no longer waits for its payer. */
export const CancelConflict = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
  },
  {
    description: 'RFC 9457 problem details: the payment is no longer pending (paid, failed, expired, an attempt in progress)',
    examples: [{ type: 'about:blank', title: 'Conflict', status: 409, detail: 'only a pending payment can be canceled; this one is paid' }],
  },
);

export const CreateRefundBody = Type.Object(
  {
    amount: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units; default: all that remains', examples: [1500] }),
    ),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, examples: ['one item returned'] })),
  },
  { additionalProperties: false },
);
export type CreateRefundBody = Static<typeof CreateRefundBody>;

export const RefundSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  payment_id: Type.String(),
  attempt_id: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('processing'), Type.Literal('succeeded'), Type.Literal('failed')], {
    description:
      'pending: written, not sent yet; processing: sent, the answer is awaited (or is being checked with the processor); succeeded; failed (see error_*)',
  }),
  error_code: Type.Union([Type.String(), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const StepValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Null()]);
/** The conversation's collected fields, in the chat platform's own names; checked field by field by the step. */
const StepFields = Type.Record(Type.String({ maxLength: 40 }), StepValue, { maxProperties: 30 });

export const PaymentStepBody = Type.Object(
  {
    connection: Type.String({ minLength: 1, maxLength: 64, description: "the payment app's connection code (or id)" }),
    conversation_id: Type.String({ minLength: 1, maxLength: 128 }),
    step: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the flow step's name; default 'payment'" })),
    language: Type.Optional(
      Type.String({ minLength: 2, maxLength: 3, description: "ro or en (or an ISO 3166-1 numeric country code); default: the connection's language" }),
    ),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    callback_url: Type.Optional(
      Type.String({ maxLength: 2048, description: 'receives payment_step.updated (Standard Webhooks, signed with callback_secret)' }),
    ),
    Payment: StepFields,
    PaymentShipping: Type.Optional(StepFields),
  },
  { additionalProperties: false },
);
export type PaymentStepBody = Static<typeof PaymentStepBody>;

export const PaymentStepSchema = Type.Object({
  object: Type.Literal('payment_step'),
  conversation_id: Type.String(),
  step: Type.String(),
  connection_id: Type.String(),
  payment_id: Type.String(),
  language: Type.String(),
  status: Type.String(),
  Payment: Type.Object({
    Url: Type.String({ description: 'the link the agent sends' }),
    Amount: Type.String(),
    Currency: Type.String(),
    Status: Type.Union([Type.String(), Type.Null()], { description: "the processor's status document as a JSON string, once the payment resolved" }),
  }),
  callback_secret: Type.Optional(Type.String({ description: 'only in the answer that created the step with a callback_url' })),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const PaymentStepParams = Type.Object({ conversation_id: Type.String({ minLength: 1, maxLength: 128 }) });
export const PaymentStepQuery = Type.Object({ step: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { additionalProperties: false });
