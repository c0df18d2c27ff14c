import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, PAYMENT_STATUSES } from '../../core/transitions.js';

/**
 * The native API's request and response schemas. Fastify validates requests with them and @fastify/swagger
 * turns the same objects into the OpenAPI 3.1 document, so the documentation cannot drift from the checks.
 */

const Email = Type.String({ format: 'email', maxLength: 254 });

export const PartySchema = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('company')])),
    first_name: Type.String({ minLength: 1, maxLength: 100 }),
    last_name: Type.String({ minLength: 1, maxLength: 100 }),
    email: Email,
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{6,20}$', description: 'digits, optionally with a leading +' })),
    address: Type.Optional(Type.String({ maxLength: 500 })),
    city: Type.Optional(Type.String({ maxLength: 100 })),
    county: Type.Optional(Type.String({ maxLength: 100 })),
    zip_code: Type.Optional(Type.String({ maxLength: 20 })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
    company: Type.Optional(Type.String({ maxLength: 200 })),
    fiscal_number: Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: false, $id: 'Party' },
);

export const CreatePaymentBody = Type.Object(
  {
    connection: Type.String({ minLength: 1, maxLength: 64, description: 'connection id or code' }),
    order_id: Type.String({ minLength: 1, maxLength: 64, description: "the merchant's order reference" }),
    amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (bani, cents)' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' }),
    description: Type.String({ minLength: 1, maxLength: 500 }),
    billing: Type.Ref(PartySchema),
    shipping: Type.Optional(Type.Ref(PartySchema)),
    return_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 40 }), Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean(), Type.Null()]), { maxProperties: 50 })),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

const Timestamp = Type.String({ format: 'date-time' });

export const AttemptSchema = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  provider: Type.String(),
  status: Type.String(),
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

export const CreateMerchantBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const CreateConnectionBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64 }),
    provider: Type.String({ description: 'netopia-v1' }),
    environment: Type.Union([Type.Literal('live'), Type.Literal('sandbox'), Type.Literal('emulator')]),
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
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }),
    events: Type.Optional(Type.Array(EventTypeSchema, { minItems: 1, uniqueItems: true })),
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
