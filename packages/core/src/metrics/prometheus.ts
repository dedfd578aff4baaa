/**
 * @module
 * `@certgate/core/metrics`: the controller's metrics in Prometheus text format with `prom-client`
 * (an optional peer dependency of `@certgate/core`: install it to use this subpath; the main entry
 * never loads it).
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `certgate_decisions_total` | counter | `mode`, `action` (`allow` / `allow-unverified` / `deny`), `code` (`OK`, `NO_CERTIFICATE`, `NOT_CHECKED`, `SETTINGS_UNAVAILABLE`, `NOT_ALLOWED` or the verification code) |
 * | `certgate_validation_duration_seconds` | histogram | `result` (`pass` / `fail`) |
 * | `certgate_verdict_cache_lookups_total` | counter | `result` (`hit` / `miss`) |
 * | `certgate_mode` | gauge | `mode` (1 for the current mode, 0 for the others; all 0 while the store is unreadable) |
 * | `certgate_settings_version` | gauge | — (−1 while the store is unreadable) |
 * | `certgate_confirm_deadline_seconds` | gauge | — (Unix time of a pending confirm window's deadline, 0 when none) |
 *
 * Label values come from fixed sets, so the series are bounded.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MODES } from '../mode/machine.js';
import type { ControllerMetrics } from './sink.js';

/** Options of {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The registry to register in. Default: a new one (not prom-client's global registry). */
  registry?: Registry;
  /** Prefix of every metric name. Default `certgate_`. */
  prefix?: string;
  /** Buckets of the validation histogram, in seconds. Default 0.0001 … 0.5. */
  buckets?: number[];
}

/** The controller metrics plus the registry they live in. */
export interface PrometheusMetrics extends ControllerMetrics {
  readonly registry: Registry;
}

/**
 * Creates the metrics. Give the result to `createController({ metrics })`; the console API then
 * serves `GET /metrics`, or call `render()` yourself.
 *
 * @example
 * import { createPrometheusMetrics } from '@certgate/core/metrics';
 * const metrics = createPrometheusMetrics();
 * const controller = await createController({ store, metrics });
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'certgate_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(`${prefix}x`)) throw new TypeError('createPrometheusMetrics: "prefix" must be a valid metric name prefix');
  const decisions = new Counter({
    name: `${prefix}decisions_total`,
    help: 'Decisions of the certgate controller (one per connection and settings change), by mode, action and verdict code.',
    labelNames: ['mode', 'action', 'code'] as const,
    registers: [registry],
  });
  const validation = new Histogram({
    name: `${prefix}validation_duration_seconds`,
    help: 'Duration of client-chain validations that ran (verdict-cache misses).',
    labelNames: ['result'] as const,
    buckets: options.buckets ?? [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
    registers: [registry],
  });
  const cache = new Counter({
    name: `${prefix}verdict_cache_lookups_total`,
    help: 'Lookups of the controller verdict cache, by hit or miss.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const mode = new Gauge({ name: `${prefix}mode`, help: 'The current mTLS mode (1) and the others (0).', labelNames: ['mode'] as const, registers: [registry] });
  const version = new Gauge({ name: `${prefix}settings_version`, help: 'The version of the mTLS settings in force (-1 while unreadable).', registers: [registry] });
  const deadline = new Gauge({ name: `${prefix}confirm_deadline_seconds`, help: 'Unix time of the pending confirm window deadline (0 when none).', registers: [registry] });
  for (const m of MODES) mode.set({ mode: m }, 0);
  cache.inc({ result: 'hit' }, 0);
  cache.inc({ result: 'miss' }, 0);

  return {
    registry,
    decision(e) {
      decisions.inc({ mode: e.mode, action: e.action, code: e.code });
    },
    validation(e) {
      validation.observe({ result: e.ok ? 'pass' : 'fail' }, e.seconds);
    },
    cache(hit) {
      cache.inc({ result: hit ? 'hit' : 'miss' });
    },
    state(s) {
      for (const m of MODES) mode.set({ mode: m }, s.mode === m ? 1 : 0);
      version.set(s.version ?? -1);
      const d = s.confirmDeadline === null ? NaN : Date.parse(s.confirmDeadline);
      deadline.set(Number.isFinite(d) ? d / 1000 : 0);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
