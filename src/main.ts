import { mount } from 'svelte';
import App from './app/App.svelte';
import { auditWorker, proxy } from './app/worker-client';
import './app/app.css';

mount(App, { target: document.getElementById('app')! });

// Automation hook (benchmarks, scripted audits): the same worker API the app uses.
(globalThis as { plumbline?: unknown }).plumbline = { worker: auditWorker, proxy };

// The built app registers its service worker (every asset precached), so it keeps working
// offline; the dev server does not.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch(() => {
    // Not available (file:// or a private window): the app still works online.
  });
}
