/**
 * The versions of the libraries that compute or write an audit's numbers and files, the
 * same in the app and the CLI (both bundle these exact versions from package-lock.json).
 * Recorded in every manifest; a test keeps this list in step with node_modules.
 */
export const DEPENDENCY_VERSIONS: Readonly<Record<string, string>> = {
  'onnxruntime-web': '1.30.0',
  papaparse: '5.7.1',
  'onnx-buf': '1.20.0-1',
  yaml: '2.9.1',
  '@noble/hashes': '2.4.0',
  jspdf: '4.2.1',
  fflate: '0.8.3',
  'apache-arrow': '21.2.0',
  'parquet-wasm': '0.8.0',
};
