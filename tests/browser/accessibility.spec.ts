/// <reference lib="dom" />
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

const PLAIN = 'http://127.0.0.1:4173/';

/** WCAG 2.1 A/AA violations on the page as it is (rule id, what, where). */
async function violations(page: Page) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`every tab of the results and the portfolio meet WCAG 2.1 AA checks (axe) in the ${scheme} scheme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(PLAIN);
    expect(await violations(page)).toEqual([]);
    // The checker does catch problems: an unlabeled input and low-contrast text, added and removed.
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.id = 'axe-probe';
      probe.innerHTML = '<input type="text"><p style="color:#bbb;background:#fff">faint</p>';
      document.body.append(probe);
    });
    const caught = await violations(page);
    expect(caught.some((v) => v.startsWith('label:'))).toBe(true);
    expect(caught.some((v) => v.startsWith('color-contrast:'))).toBe(true);
    await page.evaluate(() => document.getElementById('axe-probe')!.remove());
    await page.getByTestId('run-demo').click();
    await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
    for (const tab of ['summary', 'data', 'performance', 'calibration', 'fairness', 'explanations', 'robustness', 'drift', 'recourse', 'rows', 'reproducibility']) {
      await page.getByTestId(`tab-${tab}`).click();
      expect(await violations(page), tab).toEqual([]);
    }
    await page.getByTestId('nav-portfolio').click();
    await page.getByTestId('registry-new').click();
    await expect(page.getByTestId('registry-summary')).toBeVisible();
    expect(await violations(page), 'portfolio').toEqual([]);
  });
}
