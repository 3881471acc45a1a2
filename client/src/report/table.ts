// HTML helpers of report.html: escaping, number cells, a table of rows.
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(3)) : x === null || x === undefined ? '–' : esc(String(x)));

export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '<p>(no rows)</p>';
  const cols = Object.keys(rows[0]);
  return `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${num(r[c])}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}
