import type { FastifyReply } from 'fastify';

/**
 * Volt's error shapes: the API answers `{exception: {code, message, errorList: [{property, message}]}}`;
 * the OAuth endpoint answers `{code, message}`.
 */

export interface PropertyError {
  property: string;
  message: string;
}

export function sendException(reply: FastifyReply, status: number, message: string, errorList?: PropertyError[]): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send({ exception: { code: status, message, ...(errorList ? { errorList } : {}) } });
}

export function sendAuthError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ code: status, message });
}
