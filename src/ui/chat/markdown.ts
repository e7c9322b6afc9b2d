/**
 * Model output as markdown, then sanitized: the model may emit any text, including HTML and scripts,
 * and none of it may run. Raw HTML in the source is rendered as visible text (never as markup), and
 * DOMPurify then strips anything dangerous that markdown itself could produce (javascript: links etc.).
 */
import { Marked } from 'marked';
import DOMPurify from 'dompurify';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const md = new Marked({ gfm: true, breaks: true, async: false });
md.use({ renderer: { html: (token) => escapeHtml(token.text) } });

export function renderMarkdown(src: string): string {
  const html = md.parse(src, { async: false });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'img', 'iframe', 'form', 'input'] });
}
