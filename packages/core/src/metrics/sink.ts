/**
 * @module
 * What the controller reports for metrics, as a plain interface: core itself never loads a metrics
 * library. `createPrometheusMetrics()` (subpath `@certgate/core/metrics`, needs `prom-client`)
 * implements it; pass the result as the controller's `metrics` option, and the console API serves
 * it at `GET /metrics`.
 */
import type { Decision } from '../controller/index.js';
import type { Mode } from '../mode/machine.js';

/** The `code` label of a decision: the verification code, or one of these. */
export type DecisionMetricCode = 'OK' | 'NO_CERTIFICATE' | 'NOT_CHECKED' | 'SETTINGS_UNAVAILABLE' | 'NOT_ALLOWED' | string;

/** Receives the controller's observations. Every method must be cheap and must not throw. */
export interface ControllerMetrics {
  /** One decision (one per connection and settings epoch). */
  decision(e: { mode: Mode; action: 'allow' | 'allow-unverified' | 'deny'; code: DecisionMetricCode }): void;
  /** One chain validation that ran (a verdict-cache miss), with its duration. */
  validation(e: { seconds: number; ok: boolean }): void;
  /** One lookup of the verdict cache. */
  cache(hit: boolean): void;
  /** The state after every change; `mode: null` while the store is unreadable. */
  state(s: { mode: Mode | null; version: number | null; confirmDeadline: string | null }): void;
  /** The exposition: Prometheus text format and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** The `code` label of a decision. */
export function decisionMetricCode(d: Pick<Decision, 'mode' | 'certificate' | 'verdict' | 'denial'>): DecisionMetricCode {
  if (d.denial?.code === 'SETTINGS_UNAVAILABLE') return 'SETTINGS_UNAVAILABLE';
  if (d.verdict) return d.verdict.ok ? 'OK' : d.verdict.code;
  if (d.mode === 'disabled') return 'NOT_CHECKED';
  return d.certificate ? 'MALFORMED' : 'NO_CERTIFICATE';
}
