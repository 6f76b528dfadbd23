import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { TokenInfo } from '../tokens/types';
import type { Auditor } from './audit';
import { deliveryPathOf } from './auto-rotate';
import { ApiError } from './errors';
import type { TokenAdminBackend } from './types';
import { type Limits, parseCreate, parseId, parseRotate, parseStateFilter } from './validate';
import { toView } from './view';

/** What the route handlers share. */
export interface RouteContext {
  tokens: TokenAdminBackend;
  limits: Limits;
  audit: Auditor;
  now: () => number;
  expiringWithinMs: number;
  createdBy: (req: Request) => string | null;
  /** Writes a token to its delivery path (auto-rotation on); undefined when off. */
  deliver?: (path: string, token: string, info: TokenInfo) => Promise<void>;
}

type Handler = (req: Request, res: Response) => Promise<void>;

/** Express 4 does not catch rejected promises: pass them to `next`. */
export const wrap =
  (fn: Handler): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

const notFound = (id: string) => new ApiError(404, 'not_found', `No token with id "${id}".`);

/** Registers `/me` and the `/tokens` routes. */
export function addTokenRoutes(router: Router, ctx: RouteContext): void {
  const view = (info: TokenInfo) => toView(info, ctx.now(), ctx.expiringWithinMs);
  const secret = (res: Response, status: number, token: string, info: TokenInfo) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    res.status(status).json({ token, ...view(info) });
  };

  router.get(
    '/me',
    wrap(async (req, res) => {
      const { maxTtl, maxGrace, allowedScopes, autoRotate, deliveryPrefix } = ctx.limits;
      res.json({
        name: ctx.createdBy(req),
        token_id: req.auth?.tokenId ?? null,
        scopes: req.auth?.scopes ?? null,
        limits: {
          max_ttl: maxTtl,
          allow_no_expiry: maxTtl === null,
          max_grace: maxGrace,
          allowed_scopes: allowedScopes,
          auto_rotate: autoRotate,
          delivery_prefix: deliveryPrefix,
        },
      });
    }),
  );

  router.post(
    '/tokens',
    wrap(async (req, res) => {
      const input = parseCreate(req.body, ctx.limits, ctx.now());
      const issued = await ctx.tokens.create({
        name: input.name,
        description: input.description,
        scopes: input.scopes,
        expiresIn: input.expiresIn,
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
        createdBy: ctx.createdBy(req),
        ...(input.deliveryPath ? { deliveryPath: input.deliveryPath } : {}),
      });
      if (input.deliveryPath && ctx.deliver) {
        try {
          await ctx.deliver(input.deliveryPath, issued.token, issued.record);
        } catch (err) {
          await ctx.tokens.revoke(issued.record.id).catch(() => false);
          throw err;
        }
      }
      await ctx.audit('token.create', req, issued.record, {
        expires_at: issued.record.expiresAt,
        scopes: issued.record.scopes.join(' '),
        delivery_path: input.deliveryPath,
      });
      res.setHeader('Location', `${req.baseUrl}/tokens/${issued.record.id}`);
      secret(res, 201, issued.token, issued.record);
    }),
  );

  router.get(
    '/tokens',
    wrap(async (req, res) => {
      const state = parseStateFilter(req.query.state);
      const all = (await ctx.tokens.list()).map(view);
      res.setHeader('Cache-Control', 'no-store');
      res.json({ tokens: state ? all.filter((t) => t.state === state) : all });
    }),
  );

  router.get(
    '/tokens/:id',
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const info = await ctx.tokens.get(id);
      if (!info) throw notFound(id);
      res.setHeader('Cache-Control', 'no-store');
      res.json(view(info));
    }),
  );

  router.delete(
    '/tokens/:id',
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const info = await ctx.tokens.get(id);
      if (!info) throw notFound(id);
      if (!(await ctx.tokens.revoke(id))) throw notFound(id);
      await ctx.audit('token.revoke', req, info, {});
      res.setHeader('Cache-Control', 'no-store');
      res.status(204).end();
    }),
  );

  router.post(
    '/tokens/:id/rotate',
    wrap(async (req, res) => {
      const id = parseId(req.params.id);
      const input = parseRotate(req.body, ctx.limits);
      const deliver = ctx.deliver;
      let path: string | null = null;
      if (deliver) {
        const current = await ctx.tokens.get(id);
        if (!current) throw notFound(id);
        path = deliveryPathOf(current);
      }
      const issued = await ctx.tokens.rotate(id, {
        grace: input.graceSeconds,
        expiresIn: input.expiresIn,
        ...(deliver && path ? { deliver: (token: string, next: TokenInfo) => deliver(path, token, next) } : {}),
      });
      await ctx.audit('token.rotate', req, issued.record, {
        grace_seconds: input.graceSeconds ?? 0,
        previous_expires_at: issued.record.previousExpiresAt,
        expires_at: issued.record.expiresAt,
        delivery_path: path,
      });
      secret(res, 201, issued.token, issued.record);
    }),
  );
}
