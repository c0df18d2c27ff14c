import { ValidationError } from '../core/validation.js';
import { selectConnectionOutcomes, selectDailyTotals, selectDeclineReasons, selectWaiting, type OverviewRange } from '../store/queries/overview.js';
import type { HubContext } from './context.js';

/**
 * The console's overview of the payments created in the last days (UTC days, today included), of one merchant or
 * (null) of every merchant: payments and paid volume by day, the success rate of each connection, the most
 * frequent decline reasons and the payments still waiting. "Paid" is a payment whose money was captured (paid,
 * partially or wholly refunded since); its volume is the amount captured. A payment reached a final state when it
 * is paid or refunded, canceled or expired; a declined attempt leaves its payment payable, so it counts among the
 * decline reasons, not as a final state.
 */

export const OVERVIEW_PERIODS = [7, 30, 90] as const;
export type OverviewPeriod = (typeof OVERVIEW_PERIODS)[number];
export const DEFAULT_OVERVIEW_PERIOD: OverviewPeriod = 30;
const DECLINE_REASONS_SHOWN = 10;
const DAY_MS = 86_400_000;

export interface DayTotals {
  /** YYYY-MM-DD (UTC). */
  day: string;
  created: number;
  paid: number;
}

export interface CurrencyVolume {
  currency: string;
  /** Minor units captured over the period. */
  total: number;
  paid: number;
  /** One entry per day of the period, in order. */
  days: Array<{ day: string; amount: number }>;
}

export interface ConnectionRate {
  connectionId: string;
  code: string;
  provider: string;
  merchantId: string;
  created: number;
  paid: number;
  final: number;
  /** paid ÷ final, null when none reached a final state. */
  rate: number | null;
}

export interface DeclineReason {
  provider: string;
  code: string | null;
  message: string | null;
  attempts: number;
}

export interface Overview {
  merchantId: string | null;
  period: OverviewPeriod;
  /** The first moment counted: midnight UTC of the first day. */
  since: Date;
  /** Every day of the period, oldest first, with its counts (zero on a day without payments). */
  days: DayTotals[];
  created: number;
  paid: number;
  /** Paid volume by currency, the largest first by number of payments paid. */
  volume: CurrencyVolume[];
  connections: ConnectionRate[];
  declines: DeclineReason[];
  waiting: { pending: number; unknown: number };
}

export const isOverviewPeriod = (value: unknown): value is OverviewPeriod => (OVERVIEW_PERIODS as readonly unknown[]).includes(value);

/** The days of a period ending today (UTC), oldest first. */
export function periodDays(period: OverviewPeriod, now: Date): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: period }, (_, i) => new Date(today - (period - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

export async function paymentsOverview(ctx: Pick<HubContext, 'db'>, merchantId: string | null, period: OverviewPeriod, now = new Date()): Promise<Overview> {
  if (!isOverviewPeriod(period)) throw new ValidationError([{ field: 'period', message: `must be one of ${OVERVIEW_PERIODS.join(', ')} days` }]);
  const days = periodDays(period, now);
  const since = new Date(`${days[0]}T00:00:00.000Z`);
  const range: OverviewRange = { merchantId, since };
  const [daily, connections, declines, waiting] = await Promise.all([
    selectDailyTotals(ctx.db, range),
    selectConnectionOutcomes(ctx.db, range),
    selectDeclineReasons(ctx.db, range, DECLINE_REASONS_SHOWN),
    selectWaiting(ctx.db, range),
  ]);
  const byDay = new Map(days.map((day) => [day, { day, created: 0, paid: 0 }]));
  const currencies = new Map<string, CurrencyVolume>();
  for (const row of daily) {
    const totals = byDay.get(row.day);
    // A payment stamped after "now" (another process's clock ahead) belongs to no day shown.
    if (!totals) continue;
    totals.created += row.created;
    totals.paid += row.paid;
    if (row.paid === 0) continue;
    let volume = currencies.get(row.currency);
    if (!volume) {
      volume = { currency: row.currency, total: 0, paid: 0, days: days.map((day) => ({ day, amount: 0 })) };
      currencies.set(row.currency, volume);
    }
    volume.total += row.volume;
    volume.paid += row.paid;
    volume.days[days.indexOf(row.day)]!.amount += row.volume;
  }
  const dayTotals = [...byDay.values()];
  return {
    merchantId,
    period,
    since,
    days: dayTotals,
    created: dayTotals.reduce((s, d) => s + d.created, 0),
    paid: dayTotals.reduce((s, d) => s + d.paid, 0),
    volume: [...currencies.values()].sort((a, b) => b.paid - a.paid || a.currency.localeCompare(b.currency)),
    connections: connections.map((c) => ({
      connectionId: c.connection_id,
      code: c.code,
      provider: c.provider,
      merchantId: c.merchant_id,
      created: c.created,
      paid: c.paid,
      final: c.final,
      rate: c.final > 0 ? c.paid / c.final : null,
    })),
    declines: declines.map((d) => ({ provider: d.provider, code: d.error_code, message: d.message, attempts: d.attempts })),
    waiting,
  };
}
