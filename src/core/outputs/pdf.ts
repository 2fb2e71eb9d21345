import { isTaskResult } from '../task/result';
import { resultDigest } from './manifest';
import { renderBlocksPdf } from './pdf-writer';
import { base64, RESULT_NAMESPACE } from './pdf-embed';
import { reportBlocks, reportTitle, type ReportInput } from './report';

export type { ReportBlock } from './blocks';
export { pdfText, renderBlocksPdf, type PdfDocumentInfo } from './pdf-writer';
export { reportBlocks, reportTitle, type ReportInput } from './report';
export { embeddedInPdf, resultFromPdf, RESULT_NAMESPACE } from './pdf-embed';

/**
 * The audit report as a PDF, made by jsPDF from the report blocks (the browser and the
 * CLI make the same document): a table of contents after the cover, an outline
 * (bookmarks), page numbers, vector charts, and the result JSON embedded (XMP metadata)
 * so `plumbline inspect` and the app can read a report back. The creation date and the
 * document id come from the inputs, so the same result gives the same bytes.
 */
export function renderPdf(input: ReportInput): Uint8Array {
  const { result } = input;
  const digest = input.digest ?? resultDigest(result);
  return renderBlocksPdf(reportBlocks({ ...input, digest }), {
    title: reportTitle(input),
    subject: isTaskResult(result) ? `Plumbline ${result.task} model audit` : 'Plumbline model audit',
    keywords: `result-sha256:${digest}`,
    createdAt: input.createdAt,
    fileId: digest.slice(0, 32),
    footer: `Plumbline audit · ${digest.slice(0, 12)}`,
    xmp: `<plumbline:result xmlns:plumbline="${RESULT_NAMESPACE}">${base64(new TextEncoder().encode(JSON.stringify(result)))}</plumbline:result>`,
  });
}

