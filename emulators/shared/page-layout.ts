import type { FastifyReply } from 'fastify';
import { html, Html } from '../../src/html/template.js';

// Pages embed no scripts and load nothing; the policy makes that a guarantee rather than a habit.
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

/** How one emulator's pages look: its stylesheet and the header that says this is a sandbox, not the processor. */
export interface PageLook {
  style: string;
  /** After each page's title, e.g. "NETOPIA emulator". */
  titleSuffix: string;
  /** The header's two parts, e.g. "NETOPIA Payments emulator" and "sandbox · not a real payment processor". */
  brand: string;
  tagline: string;
}

export interface PageContent {
  title: string;
  /** The page's language (the payer's, on localised pages); English by default. */
  lang?: string;
  /** The header's tagline in the page's language (a payer's page is in one language); the look's by default. */
  tagline?: string;
  body: Html;
}

/** The layout every emulator page uses: a complete document in `look`, with `body` as its main content. */
export function pageLayout(look: PageLook): (content: PageContent) => string {
  const style = new Html(look.style);
  return (content) =>
    `<!doctype html>${
      html`<html lang="${content.lang ?? 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${content.title} · ${look.titleSuffix}</title><style>${style}</style></head>
<body><header><strong>${look.brand}</strong><span>${content.tagline ?? look.tagline}</span></header>
<main>${content.body}</main></body></html>`.text
    }`;
}

export function sendHtml(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}
