import type { FastifyReply } from 'fastify';
import type { Notifier } from './notifier.js';
import type { EmuDb } from './schema.js';

/** What every route module of one emulator instance shares. */
export interface EmulatorContext {
  db: EmuDb;
  notifier: Notifier;
  /** Absolute URL of the emulator's root, no trailing slash: publicUrl + prefix. */
  baseUrl: string;
  /** How long an uncleared test payment stays under review (MultiSafepay's test cards: 3 minutes). */
  reviewDelayMs: number;
}

/** MultiSafepay's error envelope: `{success: false, data: {}, error_code, error_info}`. */
export function apiError(reply: FastifyReply, status: number, code: number, info: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ success: false, data: {}, error_code: code, error_info: info });
}

export function apiSuccess(reply: FastifyReply, data: unknown): FastifyReply {
  return reply.code(200).type('application/json; charset=utf-8').send({ success: true, data });
}
