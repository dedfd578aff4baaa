/** Type tests (vitest --typecheck): `ctx.state.clientCertificate` is the core Decision, on Koa's default state and on CertgateState. */
import Koa, { type Middleware, type ParameterizedContext } from 'koa';
import { describe, expectTypeOf, it } from 'vitest';
import type { Controller, Decision, DenialCode } from '@certgate/core';
import { mtls, settingsRouter, type CertgateState, type ClientCertificate, type MtlsMiddlewareOptions } from '@certgate/koa';

declare const controller: Controller;

describe('@certgate/koa types', () => {
  it('ClientCertificate is the core Decision', () => {
    expectTypeOf<ClientCertificate>().toEqualTypeOf<Decision>();
  });

  it('ctx.state.clientCertificate on Koa default state (module augmentation) and on CertgateState', () => {
    const app = new Koa();
    app.use(mtls(controller));
    app.use((ctx) => {
      expectTypeOf(ctx.state.clientCertificate).toEqualTypeOf<Decision | undefined>();
      const cc = ctx.state.clientCertificate;
      if (cc?.action === 'deny') expectTypeOf(cc.denial?.code).toEqualTypeOf<DenialCode | undefined>();
      expectTypeOf(cc?.identity?.fingerprint256).toEqualTypeOf<string | undefined>();
      expectTypeOf(cc?.authorization?.allowed).toEqualTypeOf<boolean | undefined>();
    });
    expectTypeOf<ParameterizedContext<CertgateState>['state']['clientCertificate']>().toEqualTypeOf<ClientCertificate | undefined>();
  });

  it('mtls and settingsRouter are Koa middleware over CertgateState', () => {
    expectTypeOf(mtls).returns.toEqualTypeOf<Middleware<CertgateState>>();
    expectTypeOf(settingsRouter).returns.toEqualTypeOf<Middleware<CertgateState>>();
    expectTypeOf<MtlsMiddlewareOptions['onDenied']>().parameter(0).toEqualTypeOf<Decision>();
    // @ts-expect-error rules must be Rules, not strings
    mtls(controller, { rules: 'alice' });
  });
});
