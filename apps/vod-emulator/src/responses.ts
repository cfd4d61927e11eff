import type { Response } from 'express';

/** Writing answers: Alibaba's JSON, and the HTML error page a gateway in front of it would send. */

export function sendJson(res: Response, status: number, body: unknown, requestId: string): void {
  if (res.destroyed || res.writableEnded) return;
  res
    .status(status)
    .set('x-acs-request-id', requestId)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(body));
}

export function sendHtmlError(res: Response, status: number): void {
  if (res.destroyed || res.writableEnded) return;
  const title = `${status} ${STATUS_TEXT[status] ?? 'Server Error'}`;
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n`,
    );
}

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
