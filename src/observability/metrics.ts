import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, served at /metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'incasso_' });

export const httpRequests = new Counter({
  name: 'incasso_http_requests_total',
  help: 'HTTP requests by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'incasso_http_request_duration_seconds',
  help: 'HTTP request duration by route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const notificationOutcomes = new Counter({
  name: 'incasso_notifications_total',
  help: 'Processor notifications received, by connector and outcome (applied, duplicate, ignored, rejected, error)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

export const webhookDeliveryLag = new Histogram({
  name: 'incasso_webhook_delivery_lag_seconds',
  help: 'Time from an event being recorded to its successful delivery to a webhook endpoint',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
  registers: [registry],
});

export const webhookDeliveries = new Counter({
  name: 'incasso_webhook_delivery_attempts_total',
  help: 'Webhook delivery attempts by result (succeeded, failed)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const processorCalls = new Counter({
  name: 'incasso_processor_calls_total',
  help: 'Calls the hub made to processors, by connector, operation and result (HTTP status, timeout, network_error)',
  labelNames: ['provider', 'operation', 'result'] as const,
  registers: [registry],
});
