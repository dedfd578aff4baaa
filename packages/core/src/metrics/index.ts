/**
 * @module
 * `@certgate/core/metrics`: Prometheus metrics for the controller (needs the optional peer
 * dependency `prom-client`). See {@link createPrometheusMetrics}.
 */
export { createPrometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus.js';
export type { ControllerMetrics, DecisionMetricCode } from './sink.js';
