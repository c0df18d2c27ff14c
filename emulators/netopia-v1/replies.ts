import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendHtml } from '../shared/page-layout.js';
import { errorPage } from './payment-pages.js';

export { sendHtml } from '../shared/page-layout.js';

/** Scripts ask for JSON (Accept) or speak it (Content-Type); browsers get HTML. */
export function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json') || (request.headers['content-type'] ?? '').includes('json');
}

/** NETOPIA's error page: its wording as the heading, our explanation below, optionally a way back. */
export function problemPage(
  reply: FastifyReply,
  problem: { title: string; detail: string },
  status = 400,
  extra: { backUrl?: string; lang?: string } = {},
): FastifyReply {
  return sendHtml(reply, status, errorPage({ ...problem, ...extra }));
}
