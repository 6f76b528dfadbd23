import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from './errors';

/** Refuses cross-site requests (CSRF with cookie sessions) and POSTs that are not JSON. */
export const requestShape: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
  if (req.headers['sec-fetch-site'] === 'cross-site') return next(new ApiError(403, 'forbidden', 'Cross-site requests to the token API are refused.'));
  if (req.method === 'POST') {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json')
      return next(new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json" (an empty object is fine).'));
  }
  next();
};
