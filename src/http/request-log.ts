import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * The hub's request lines: one per request at info, written when the answer has been sent (method, path without
 * its query, status, milliseconds), instead of Fastify's two ("incoming request" and "request completed").
 * The arrival line stays at debug, so a request that never ends still shows there; so do Fastify's own notes on
 * a 4xx or an unknown route, which the one line already tells. Server errors keep their error lines.
 */
export class HubLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) request.log.error({ ...line, err: error }, 'request errored');
    else request.log.info(line, 'request completed');
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) request.log.error({ req: request, res: { statusCode: reply.statusCode }, err: error }, error.message);
    else request.log.debug({ err: error }, error.message);
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'route not found');
  }
}
