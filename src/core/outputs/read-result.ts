/**
 * Reads an audit result back from a file a user gives: a result JSON, or the result
 * embedded in a Plumbline PDF or HTML report. A report's embedded result is checked
 * against the digest the report itself shows, so a report whose numbers were edited is
 * refused rather than compared, diffed or used as a drift reference.
 */
import { ReportError } from '../base/errors';
import { resultDigest } from './manifest';
import { embeddedInHtml } from './html';
import { embeddedInPdf } from './pdf-embed';

export function readResultFile(bytes: Uint8Array, fileName: string): Record<string, unknown> {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  const report = head.startsWith('%PDF-') ? 'PDF' : /^\s*<!doctype html/i.test(head) ? 'HTML' : null;
  let text: string;
  let recorded: string | null = null;
  if (report) {
    const embedded = report === 'PDF' ? embeddedInPdf(bytes) : embeddedInHtml(new TextDecoder().decode(bytes));
    if (!embedded) throw new ReportError(`${fileName} is ${report === 'PDF' ? 'a PDF' : 'an HTML file'} without a Plumbline result inside (not a Plumbline report, or made by another tool). Open the report Plumbline made, or its result JSON.`);
    text = embedded.json;
    recorded = embedded.digest;
  } else text = new TextDecoder().decode(bytes);
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch (error) {
    throw new ReportError(
      report
        ? `${fileName}: the result inside this ${report} report is damaged (${(error as Error).message}). The file was altered or cut short: open the original report or its result JSON.`
        : `${fileName} is not a Plumbline result JSON (${(error as Error).message}). Open a result JSON, or a PDF or HTML report made by Plumbline.`,
    );
  }
  if (!result || typeof result !== 'object' || Array.isArray(result) || !('performance' in result)) {
    throw new ReportError(`${fileName} holds no Plumbline audit result: open a result JSON, or a PDF or HTML report made by Plumbline.`);
  }
  if (recorded !== null && resultDigest(result) !== recorded) {
    throw new ReportError(`${fileName}: the result inside this ${report} report does not match the digest the report shows (${recorded.slice(0, 12)}…): it was altered after Plumbline made it. Open the original report or its result JSON.`);
  }
  return result as Record<string, unknown>;
}
