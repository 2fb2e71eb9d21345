import { mount } from 'svelte';
import App from './app/App.svelte';
import { auditWorker } from './app/worker-client';
import './app/app.css';

mount(App, { target: document.getElementById('app')! });

// Automation hook (benchmarks, scripted audits): the same worker API the app uses.
(globalThis as { plumbline?: unknown }).plumbline = { worker: auditWorker };
