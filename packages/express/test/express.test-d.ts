/** Type tests (vitest --typecheck): `req.clientCertificate` is the core Decision through the global Express.Request augmentation. */
import express, { type Request, type RequestHandler } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import { allowCommonNames, type Controller, type Decision, type DenialCode } from '@certgate/core';
import { mtls, settingsRouter, type ClientCertificate, type MtlsMiddlewareOptions } from '@certgate/express';

declare const controller: Controller;

describe('@certgate/express types', () => {
  it('ClientCertificate is the core Decision; Request has it optional', () => {
    expectTypeOf<ClientCertificate>().toEqualTypeOf<Decision>();
    expectTypeOf<Request['clientCertificate']>().toEqualTypeOf<Decision | undefined>();
    expectTypeOf<Express.Request['clientCertificate']>().toEqualTypeOf<Decision | undefined>();
  });

  it('in a handler: narrowing on action, identity, authorization', () => {
    const app = express();
    app.get('/x', mtls(controller, { rules: allowCommonNames('alice') }), (req, res) => {
      const cc = req.clientCertificate;
      expectTypeOf(cc).toEqualTypeOf<Decision | undefined>();
      if (cc?.action === 'deny') expectTypeOf(cc.denial?.code).toEqualTypeOf<DenialCode | undefined>();
      expectTypeOf(cc?.identity?.spkiSha256).toEqualTypeOf<string | undefined>();
      expectTypeOf(cc?.authorization?.allowed).toEqualTypeOf<boolean | undefined>();
      res.end();
    });
  });

  it('mtls and settingsRouter are RequestHandlers', () => {
    expectTypeOf(mtls).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(settingsRouter).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf<MtlsMiddlewareOptions['onDenied']>().parameter(0).toEqualTypeOf<Decision>();
    // @ts-expect-error rules must be Rules, not strings
    mtls(controller, { rules: 'alice' });
  });
});
