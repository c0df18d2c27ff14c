import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorPage } from './payment-pages.js';

/** Scripts ask for JSON (Accept) or speak it (Content-Type); browsers get HTML. */
export function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json') || (request.headers['content-type'] ?? '').includes('json');
}

export function sendHtml(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
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
