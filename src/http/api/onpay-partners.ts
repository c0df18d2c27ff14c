import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HubContext } from '../../services/context.js';
import { createOnpayPartner } from '../../services/onpay/partners.js';
import { requireAdmin, type AuthConfig } from '../auth.js';
import { CreateMerchantBody } from './schemas.js';

/** The operator's side of the OnPay surface: a partner gets a merchant and a one-time activation key. */
export async function onpayPartnerRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  app.post<{ Body: { name: string } }>(
    '/v1/onpay/partners',
    {
      onRequest: requireAdmin(opts.auth),
      schema: {
        tags: ['operator'],
        summary: 'Register an OnPay partner: a merchant, and a temporary key it trades once (get_onpay_key) for its production key',
        body: CreateMerchantBody,
        response: {
          201: Type.Object({
            merchant_id: Type.String(),
            api_key: Type.String({ description: "the merchant's native API key (shown once)" }),
            activation_key: Type.String({ description: 'works once, with get_onpay_key' }),
          }),
        },
      },
    },
    async (request, reply) => {
      const partner = await createOnpayPartner(ctx, request.body.name);
      return reply.code(201).send({ merchant_id: partner.merchantId, api_key: partner.apiKey, activation_key: partner.activationKey });
    },
  );
}
