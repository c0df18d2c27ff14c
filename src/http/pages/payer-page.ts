import type { FastifyReply } from 'fastify';
import { html, Html } from '../../html/template.js';

/** What differs between the payer's pages: their words, their style sheet, and what their policy lets them run and post to. */
export interface PayerPage {
  lang: string;
  title: string;
  body: Html;
  /** The page's own style sheet (inline: the policy allows inline style only). */
  style: string;
  /** The policy's `script-src` (`'none'`, or one nonce for the hand-off's self-submitting form). */
  scriptSrc: string;
  /** The policy's `form-action`: where the page's forms may post. */
  formAction: string;
  refreshSeconds?: number;
  status?: number;
}

/**
 * Sends one of the payer's pages (the payment page, an invoice's pay page): one document, no external resource,
 * a strict policy, never cached or framed, and no referrer sent on (its address holds a token).
 */
export function sendPayerPage(reply: FastifyReply, p: PayerPage) {
  reply
    .code(p.status ?? 200)
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'unsafe-inline'; script-src ${p.scriptSrc}; form-action ${p.formAction}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-language', p.lang)
    .type('text/html; charset=utf-8');
  const refresh = p.refreshSeconds ? html`<meta http-equiv="refresh" content="${p.refreshSeconds}">` : '';
  return reply.send(
    html`<!doctype html><html lang="${p.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${refresh}<title>${p.title}</title><style>${new Html(p.style)}</style></head><body><main>${p.body}</main></body></html>`
      .text,
  );
}
