// Compares what the hub recorded with what NETOPIA (the emulator) knows and with what the merchant's webhook
// receiver got. Every mismatch is returned as one line of text, so a failing resilience test says exactly which
// payment, IPN or event went wrong.
import { sql } from 'kysely';
import { crcOf } from './netopia-v1.js';
import type { EmulatorServer } from './netopia-emulator-server.js';
import type { RecordingListener } from './recording-listener.js';
import { ronMinor } from './resilience.js';

export type HubQuery = (text: string) => Promise<any[]>;

export interface AuditStats {
  payments: number;
  attempts: number;
  orders: number;
  ipns: number;
  ipnAttempts: number;
  ipnRetried: number;
  notifications: Record<string, number>;
  events: number;
  deliveries: number;
  listenerCalls: number;
  listenerRedeliveries: number;
}

export interface AuditResult {
  problems: string[];
  /** Things worth knowing that are not failures (e.g. a refund applied before the capture). */
  notes: string[];
  stats: AuditStats;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Whether every IPN is finished at the emulator and every webhook delivery is finished at the hub. */
export async function quiescent(query: HubQuery, emulator: EmulatorServer, merchantId: string): Promise<{ ipnsPending: number; webhooksPending: number }> {
  const ipnsPending = await emulator.pendingDeliveries();
  const rows = await query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE merchant_id = ${q(merchantId)} AND status = 'pending'`);
  return { ipnsPending, webhooksPending: Number(rows[0]?.n ?? 0) };
}

export async function auditLedger(options: {
  query: HubQuery;
  emulator: EmulatorServer;
  listener: RecordingListener;
  merchantId: string;
  endpointIds: string[];
}): Promise<AuditResult> {
  const { query, emulator, listener, merchantId } = options;
  const problems: string[] = [];
  const notes: string[] = [];

  const payments = await query(`SELECT id, status, amount, amount_captured, amount_refunded FROM payments WHERE merchant_id = ${q(merchantId)} ORDER BY id`);
  const attempts = await query(
    `SELECT a.id, a.payment_id, a.status, a.processor_reference, a.error_code FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.merchant_id = ${q(merchantId)} ORDER BY a.payment_id, a.number`,
  );
  const notifications = await query(
    `SELECT n.id, n.status, n.summary->>'crc' AS crc, n.dedupe_key, n.payment_id FROM notifications n WHERE n.payment_id IN (SELECT id FROM payments WHERE merchant_id = ${q(merchantId)}) OR n.payment_id IS NULL`,
  );
  const events = await query(`SELECT id, type, payment_id, payload FROM events WHERE merchant_id = ${q(merchantId)} ORDER BY id`);
  const deliveries = await query(`SELECT id, event_id, endpoint_id, status, attempts FROM webhook_deliveries WHERE merchant_id = ${q(merchantId)}`);

  // What NETOPIA knows: every order (its order_id is the hub's attempt id) and every IPN with its delivery log.
  const orderRows = (
    await sql<{ purchase: string; order_id: string }>`SELECT purchase::text AS purchase, order_id FROM emu_netopia_v1_orders ORDER BY purchase`.execute(
      emulator.store.db,
    )
  ).rows;
  const attemptIds = new Set(attempts.map((a) => a.id as string));
  const views = [];
  for (const row of orderRows) {
    if (!attemptIds.has(row.order_id)) continue;
    views.push(await emulator.order(row.purchase));
  }
  const orderByAttempt = new Map(views.map((v) => [v.order.order_id, v]));

  const stats: AuditStats = {
    payments: payments.length,
    attempts: attempts.length,
    orders: views.length,
    ipns: 0,
    ipnAttempts: 0,
    ipnRetried: 0,
    notifications: {},
    events: events.length,
    deliveries: deliveries.length,
    listenerCalls: listener.calls,
    listenerRedeliveries: listener.deliveries.length - new Set(listener.deliveries.map((d) => d.id)).size,
  };
  for (const n of notifications) stats.notifications[n.status] = (stats.notifications[n.status] ?? 0) + 1;

  // 1. Every IPN NETOPIA sent was acknowledged in the end, never refused for good, never answered with a 5xx,
  //    and every acknowledged one is in the hub's ledger.
  const notificationsByCrc = new Map<string, any[]>();
  for (const n of notifications) {
    if (!n.crc) continue;
    if (!notificationsByCrc.has(n.crc)) notificationsByCrc.set(n.crc, []);
    notificationsByCrc.get(n.crc)!.push(n);
  }
  for (const v of views) {
    for (const d of v.deliveries) {
      stats.ipns++;
      stats.ipnAttempts += d.log.length;
      if (d.log.length > 1) stats.ipnRetried++;
      const where = `IPN ${d.action}/${d.error_code} (delivery ${d.id}, purchase ${v.order.purchase}, order ${v.order.order_id})`;
      if (d.status !== 'delivered') problems.push(`${where} is ${d.status} after ${d.attempts} attempts: ${JSON.stringify(d.log.at(-1) ?? null)}`);
      for (const a of d.log) {
        if (a.http_status !== null && a.http_status >= 500) problems.push(`${where} attempt ${a.attempt}: the hub answered HTTP ${a.http_status}`);
        if (a.reply) {
          let type: number | undefined;
          try {
            type = crcOf(a.reply).errorType;
          } catch {
            type = undefined;
          }
          if (type === 2) problems.push(`${where} attempt ${a.attempt}: the hub refused it for good (error_type 2): ${a.reply}`);
        }
      }
      if (d.status === 'delivered') {
        const rows = notificationsByCrc.get(d.crc) ?? [];
        const settled = rows.filter((n) => n.status === 'applied' || n.status === 'duplicate' || n.status === 'ignored');
        if (settled.length === 0)
          problems.push(`${where} was acknowledged by the hub but is not in its ledger (notifications with this crc: ${JSON.stringify(rows)})`);
        const dedupe = settled[0]?.dedupe_key;
        if (dedupe && !notifications.some((n) => n.dedupe_key === dedupe && (n.status === 'applied' || n.status === 'ignored'))) {
          problems.push(`${where}: recorded only as a duplicate of nothing applied (dedupe key ${dedupe})`);
        }
      }
    }
  }
  const appliedPerKey = new Map<string, number>();
  for (const n of notifications) if (n.status === 'applied') appliedPerKey.set(n.dedupe_key, (appliedPerKey.get(n.dedupe_key) ?? 0) + 1);
  for (const [key, count] of appliedPerKey) if (count > 1) problems.push(`the same IPN (dedupe key ${key}) was applied ${count} times`);

  // 2. The hub's state of every attempt and payment equals NETOPIA's.
  const attemptsByPayment = new Map<string, any[]>();
  for (const a of attempts) {
    if (!attemptsByPayment.has(a.payment_id)) attemptsByPayment.set(a.payment_id, []);
    attemptsByPayment.get(a.payment_id)!.push(a);
  }
  const expectedEvents = new Map<string, { declined: number; captured: boolean; credited: number; creditIpns: number }>();
  for (const p of payments) {
    let captured = 0;
    let credited = 0;
    let declined = 0;
    let creditIpns = 0;
    for (const a of attemptsByPayment.get(p.id) ?? []) {
      const v = orderByAttempt.get(a.id);
      const status = v?.order.status ?? 'not sent';
      let expected: string;
      switch (status) {
        case 'confirmed':
        case 'credited': {
          const cap = ronMinor(v!.order.captured_ron);
          const cred = ronMinor(v!.order.credited_ron);
          captured += cap;
          credited += cred;
          expected = cred === 0 ? 'captured' : cred >= cap ? 'refunded' : 'partially_refunded';
          creditIpns += v!.deliveries.filter((d) => d.action === 'credit').length;
          break;
        }
        case 'declined':
          declined++;
          expected = 'failed';
          if (a.error_code !== String(v!.order.error_code))
            problems.push(`attempt ${a.id} of ${p.id}: error_code ${a.error_code}, NETOPIA says ${v!.order.error_code}`);
          break;
        case 'open':
        case 'not sent':
          expected = 'created';
          break;
        default:
          expected = `(NETOPIA status ${status})`;
      }
      if (a.status !== expected)
        problems.push(`attempt ${a.id} of ${p.id}: hub says ${a.status}, NETOPIA's order ${v?.order.purchase ?? '-'} is ${status} (expected ${expected})`);
      if (v && status !== 'open' && a.processor_reference !== v.order.purchase)
        problems.push(`attempt ${a.id}: processor_reference ${a.processor_reference}, NETOPIA purchase ${v.order.purchase}`);
    }
    const expectedStatus = captured === 0 ? 'pending' : credited === 0 ? 'paid' : credited >= captured ? 'refunded' : 'partially_refunded';
    if (p.status !== expectedStatus)
      problems.push(`payment ${p.id}: hub says ${p.status}, NETOPIA's orders say ${expectedStatus} (captured ${captured}, credited ${credited})`);
    if (Number(p.amount_captured) !== captured) problems.push(`payment ${p.id}: amount_captured ${p.amount_captured}, NETOPIA captured ${captured}`);
    if (Number(p.amount_refunded) !== credited) problems.push(`payment ${p.id}: amount_refunded ${p.amount_refunded}, NETOPIA credited ${credited}`);
    expectedEvents.set(p.id, { declined, captured: captured > 0, credited, creditIpns });
  }
  for (const v of views) if (!attempts.some((a) => a.id === v.order.order_id)) problems.push(`NETOPIA order ${v.order.purchase} has no attempt in the hub`);

  // 3. The outbox: one delivery per event and endpoint, all delivered.
  const deliveriesByEvent = new Map<string, any[]>();
  for (const d of deliveries) {
    if (!deliveriesByEvent.has(d.event_id)) deliveriesByEvent.set(d.event_id, []);
    deliveriesByEvent.get(d.event_id)!.push(d);
  }
  for (const e of events) {
    const ds = deliveriesByEvent.get(e.id) ?? [];
    for (const endpointId of options.endpointIds) {
      const forEndpoint = ds.filter((d) => d.endpoint_id === endpointId);
      if (forEndpoint.length !== 1) problems.push(`event ${e.id} (${e.type}) has ${forEndpoint.length} delivery rows for endpoint ${endpointId}`);
      for (const d of forEndpoint)
        if (d.status !== 'succeeded') problems.push(`delivery ${d.id} of event ${e.id} (${e.type}) is ${d.status} after ${d.attempts} attempts`);
    }
  }

  // 4. The merchant's receiver: every event at least once, a webhook-id never with two different bodies,
  //    every signature valid, nothing the hub does not know about.
  const bodies = listener.bodiesById();
  const eventById = new Map(events.map((e) => [e.id as string, e]));
  for (const [id, set] of bodies) {
    if (set.size > 1) problems.push(`webhook-id ${id} was delivered with ${set.size} different bodies: ${[...set].map((b) => b.slice(0, 200)).join(' | ')}`);
    const e = eventById.get(id);
    if (!e) problems.push(`the receiver got webhook-id ${id}, which is not an event of this merchant`);
    else if (!set.has(e.payload)) problems.push(`webhook-id ${id}: the body received differs from the stored event`);
  }
  for (const d of listener.deliveries) if (!d.validSignature) problems.push(`webhook-id ${d.id}: invalid signature`);
  for (const e of events) if (!bodies.has(e.id)) problems.push(`event ${e.id} (${e.type} of ${e.payment_id}) never reached the receiver`);

  // 5. Exactly the events the facts call for: one created, one attempt_failed per decline, one paid, refunds.
  const byPaymentType = new Map<string, any[]>();
  for (const e of events) {
    const k = `${e.payment_id} ${e.type}`;
    if (!byPaymentType.has(k)) byPaymentType.set(k, []);
    byPaymentType.get(k)!.push(e);
  }
  const count = (pid: string, type: string) => byPaymentType.get(`${pid} ${type}`)?.length ?? 0;
  for (const [pid, x] of expectedEvents) {
    if (count(pid, 'payment.created') !== 1) problems.push(`payment ${pid}: ${count(pid, 'payment.created')} payment.created events`);
    if (count(pid, 'payment.attempt_failed') !== x.declined)
      problems.push(`payment ${pid}: ${count(pid, 'payment.attempt_failed')} payment.attempt_failed events for ${x.declined} declined attempts`);
    const paid = count(pid, 'payment.paid');
    const refunded = byPaymentType.get(`${pid} payment.refunded`) ?? [];
    if (paid > 1) problems.push(`payment ${pid}: ${paid} payment.paid events`);
    if (x.captured && paid === 0) {
      if (refunded.length > 0)
        notes.push(`payment ${pid}: a credit IPN was applied before the capture IPN, so the merchant got payment.refunded but never payment.paid`);
      else problems.push(`payment ${pid}: captured at NETOPIA but no payment.paid event`);
    }
    if (!x.captured && paid > 0) problems.push(`payment ${pid}: payment.paid without a capture at NETOPIA`);
    if (x.credited > 0) {
      if (refunded.length === 0) problems.push(`payment ${pid}: credited ${x.credited} at NETOPIA but no payment.refunded event`);
      if (refunded.length > x.creditIpns) problems.push(`payment ${pid}: ${refunded.length} payment.refunded events for ${x.creditIpns} credit IPNs`);
      const last = Math.max(0, ...refunded.map((e) => JSON.parse(e.payload).data.amount_refunded as number));
      if (refunded.length && last !== x.credited)
        problems.push(`payment ${pid}: the latest payment.refunded says ${last} refunded, NETOPIA credited ${x.credited}`);
    } else if (refunded.length > 0) problems.push(`payment ${pid}: payment.refunded without a credit at NETOPIA`);
  }
  return { problems, notes, stats };
}
