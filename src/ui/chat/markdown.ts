/**
 * Model output as markdown, then sanitized: the model may emit any text, including HTML and scripts,
 * and none of it may run. Raw HTML in the source is rendered as visible text (never as markup), and
 * DOMPurify then strips anything dangerous that markdown itself could produce (javascript: links etc.).
 * Output is also bounded, so a hostile reply cannot hang the page: tables are cut to MARKDOWN_LIMITS
 * rows and columns (with a note saying how much is hidden), and a reply too long or too deeply nested
 * to parse is shown as plain text.
 */
import { Marked, Renderer, type Tokens } from 'marked';
import DOMPurify from 'dompurify';

export const MARKDOWN_LIMITS = {
  /** Longer replies are shown as plain text: the parser's cost grows with the input. */
  chars: 200_000,
  tableRows: 200,
  tableColumns: 40,
} as const;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const plainText = (s: string) => `<p>${escapeHtml(s).replace(/\n/g, '<br>')}</p>`;

/** A table cut to the limits, rendered by marked's own table renderer, and a note on what was cut. */
function boundedTable(this: Renderer, token: Tokens.Table): string {
  const { tableRows, tableColumns } = MARKDOWN_LIMITS;
  const columns = token.header.length;
  const cut: Tokens.Table = {
    ...token,
    header: token.header.slice(0, tableColumns),
    align: token.align.slice(0, tableColumns),
    rows: token.rows.slice(0, tableRows).map((r) => r.slice(0, tableColumns)),
  };
  const hidden = [
    token.rows.length > tableRows && `${token.rows.length - tableRows} more rows`,
    columns > tableColumns && `${columns - tableColumns} more columns`,
  ].filter(Boolean);
  const note = hidden.length ? `<p class="md-cut"><em>(table cut: ${hidden.join(' and ')} not shown)</em></p>\n` : '';
  return Renderer.prototype.table.call(this, cut) + note;
}

const md = new Marked({ gfm: true, breaks: true, async: false });
md.use({ renderer: { html: (token) => escapeHtml(token.text), table: boundedTable } });

// Every token of a streaming reply re-renders the whole message list: earlier replies (a table of
// thousands of rows, say) must not be parsed and sanitized again each time.
const rendered = new Map<string, string>();
const CACHED = 64;

export function renderMarkdown(src: string): string {
  const hit = rendered.get(src);
  if (hit !== undefined) return hit;
  const html = renderUncached(src);
  if (rendered.size >= CACHED) rendered.delete(rendered.keys().next().value!);
  rendered.set(src, html);
  return html;
}

function renderUncached(src: string): string {
  let html: string;
  if (src.length > MARKDOWN_LIMITS.chars) html = plainText(src);
  else {
    try {
      html = md.parse(src, { async: false });
    } catch {
      // Nesting deep enough to overflow the parser's recursion (thousands of `>` or list levels).
      html = plainText(src);
    }
  }
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'img', 'iframe', 'form', 'input'] });
}
