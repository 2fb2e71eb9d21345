/** The built-in demo: its files and settings, shipped in the app's own assets. */

/** The demo's files and settings (demo/demo.json). */
export interface DemoSpec {
  title: string;
  model: string;
  data: string;
  target: string;
  positive_label: string;
  protected_attributes: string[];
  features: string[];
  threshold: number;
  reference?: string;
}

/** Fetches the demo's spec from the app's own origin, with a way to fetch each file it names. */
export async function fetchDemo(): Promise<{ spec: DemoSpec; fetchBlob: (name: string) => Promise<Blob> }> {
  const base = import.meta.env.BASE_URL;
  const spec = (await (await fetch(`${base}demo/demo.json`)).json()) as DemoSpec;
  const fetchBlob = async (name: string) => (await fetch(`${base}demo/${name}`)).blob();
  return { spec, fetchBlob };
}
