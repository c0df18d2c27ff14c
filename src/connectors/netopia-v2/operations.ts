/**
 * Follow-up calls on a NETOPIA v2 payment (notes §2.3): `/operation/status`, the authoritative status of one
 * order, and `/operation/credit`, a full or partial refund (amount in major units, like everywhere in v2).
 */
import type { AttemptReference, InboundResponse, OperationError, OperationReport, OutboundRequest, RefundRequest } from '../types.js';
import { minorToMajor } from './amounts.js';
import { answerFacts, apiRequest, operationError, readAnswer, unreadOrRefused, type V2Config } from './answers.js';
import { asNtpId, panMaskedOf, processorResponse, statusReport } from './documents.js';
import { isApprovalCode, statusEntry } from './statuses.js';

/** `POST /operation/status {posID, ntpID, orderID}`: NETOPIA finds the order by either id. */
export function statusRequest(config: V2Config, attempt: AttemptReference): OutboundRequest {
  return apiRequest(config, '/operation/status', {
    posID: config.credentials.pos_signature,
    ntpID: attempt.processorReference ?? '',
    orderID: attempt.reference,
  });
}

/** Reads a status answer into a report keyed like the matching IPN. Never throws. */
export function statusResponse(attempt: AttemptReference, res: InboundResponse): OperationReport | OperationError {
  const answer = readAnswer(res);
  if (answer.kind === 'error') return answer;
  if (!answer.payment)
    return operationError(unreadOrRefused(answer), answer.code ?? 'unrecognized_answer', answer.message || 'NETOPIA answered without a payment');
  const read = answerFacts(answer, answer.payment, attempt);
  if ('kind' in read) return read;
  return statusReport(read.ntpID, read.facts, answer.error, answer.payment);
}

/** `POST /operation/credit {ntpID, amount}`: `amount` is this refund, in major units. */
export function creditRequest(config: V2Config, refund: RefundRequest): OutboundRequest {
  return apiRequest(config, '/operation/credit', { ntpID: refund.processorReference ?? '', amount: minorToMajor(refund.refundAmount, refund.currency) });
}

/**
 * Reads a credit answer. Accepted (`error.code` "00"/"0", or a status-8 payment without an error code): the
 * credited total is what was refunded before plus this refund, which is also the `payment.amount` NETOPIA reports
 * with status 8 (cumulative, see statuses.ts), so the report shares the IPN's dedupe key. Refused (53 "can only
 * credit a confirmed order", 54 "credit exceeds the authorized amount", ...): an OperationError, refused.
 */
export function creditResponse(refund: RefundRequest, res: InboundResponse): OperationReport | OperationError {
  const answer = readAnswer(res);
  if (answer.kind === 'error') return answer;
  const status = answer.payment?.status;
  const accepted = answer.code !== undefined ? isApprovalCode(answer.code) : status === 8;
  if (!accepted) {
    if (answer.code !== undefined) return operationError('refused', answer.code, answer.message || `NETOPIA refused the credit (${answer.code})`);
    return operationError('unknown', 'unrecognized_answer', 'NETOPIA answered the credit without saying whether it was accepted');
  }
  const total = refund.refundedBefore + refund.refundAmount;
  const ntpID = asNtpId(answer.payment?.ntpID) ?? refund.processorReference ?? `order:${refund.reference}`;
  const entry = statusEntry(8);
  return {
    outcome: { kind: 'refunded', totalRefunded: total },
    dedupeKey: `${ntpID}:8:${total}`,
    processorReference: ntpID,
    summary: {
      processor_response: processorResponse(answer.error, answer.payment),
      action: entry.action,
      ...(typeof status === 'number' ? { status } : {}),
      ntp_id: ntpID,
      refund_id: refund.refundId,
      ...(answer.code !== undefined ? { code: answer.code } : {}),
      ...(answer.message !== undefined ? { message: answer.message } : {}),
      ...(panMaskedOf(answer.payment) ? { pan_masked: panMaskedOf(answer.payment) } : {}),
    },
  };
}
