/**
 * GUI half of the real-client e2e: Chromium (Debian's, driven by playwright-core) on a
 * code-server workbench with the dlx-lint .vsix installed. Checks the Problems panel, the
 * hover widget, the Quick Fix menu (and applies "Disable DLX001 for this line"), the rule
 * documentation preview and a notebook, reads the notifications, then triggers the API
 * driver (client/e2e/driver) through the command palette and waits for its JSON.
 *
 * usage: node out/e2e/gui.js URL OUT_DIR API_JSON
 * env:   DLX_E2E_CASE, DLX_E2E_CASE_LINE, DLX_E2E_NOTEBOOK, DLX_E2E_WAIT_MS, CHROMIUM
 * Every check is recorded separately in OUT_DIR/gui.json (a failed one does not stop the
 * independent ones); screenshots go to OUT_DIR/*.png.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, Page } from 'playwright-core';

const [url, outDir, apiJson] = process.argv.slice(2);
const CASE = process.env.DLX_E2E_CASE ?? '';
const CASE_LINE = process.env.DLX_E2E_CASE_LINE ?? '';
const NOTEBOOK = process.env.DLX_E2E_NOTEBOOK ?? '';
const WAIT_MS = Number(process.env.DLX_E2E_WAIT_MS ?? '60000');
const DRIVER_WAIT_MS = Number(process.env.DLX_E2E_DRIVER_WAIT_MS ?? '600000');

const t0 = Date.now();
const lap = (message: string) => {
  console.log(`[gui ${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`);
};

interface Check {
  pass: boolean;
  [detail: string]: unknown;
}
const checks: Record<string, Check> = {};
const result: Record<string, unknown> = { checks };

async function step(page: Page, name: string, body: () => Promise<Record<string, unknown> | undefined>): Promise<boolean> {
  try {
    const details = (await body()) ?? {};
    checks[name] = { pass: true, s: (Date.now() - t0) / 1000, ...details };
    lap(`ok   ${name}`);
    return true;
  } catch (error) {
    checks[name] = { pass: false, s: (Date.now() - t0) / 1000, error: String(error).slice(0, 800) };
    lap(`FAIL ${name}: ${String(error).split('\n')[0]}`);
    await page.screenshot({ path: join(outDir, `error-${name}.png`) }).catch(() => undefined);
    return false;
  }
}

function skip(names: string[], why: string) {
  for (const name of names) checks[name] = { pass: false, skipped: why };
}

/** Runs a command by its palette title (F1, type, pick the matching row). */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
}

/** Clicks a file in the Explorer and waits for its editor. */
async function openFromExplorer(page: Page, name: string, lineText: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: WAIT_MS });
  await row.click();
  await page.locator('.monaco-editor .view-line', { hasText: lineText }).first().waitFor({ timeout: WAIT_MS });
}

async function problemRows(page: Page): Promise<string[]> {
  return page.locator('.markers-panel .monaco-list-row').allInnerTexts();
}

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'dlx-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1500, height: 950 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const shot = (name: string) => page.screenshot({ path: join(outDir, name) }).catch(() => undefined);
  try {
    const workbench = await step(page, 'workbench', async () => {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 180000 });
      return undefined;
    });
    if (!workbench) throw new Error('no workbench');

    const opened = await step(page, 'open_case', async () => {
      await openFromExplorer(page, CASE, 'import torch');
      return undefined;
    });

    const problems = opened && await step(page, 'problems_panel', async () => {
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'DLX001' }).first();
      await row.waitFor({ timeout: WAIT_MS });
      const rows = await problemRows(page);
      await shot('1-problems.png');
      const ours = rows.filter((r) => r.includes('DLX001'));
      if (!ours.some((r) => r.includes(`Ln ${CASE_LINE},`))) throw new Error(`no DLX001 row at line ${CASE_LINE}: ${JSON.stringify(rows)}`);
      return { rows };
    });

    // The language status item ({} in the status bar) shows the server state.
    await step(page, 'language_status', async () => {
      const item = page.locator('[id="status.languageStatus"]').first();
      await item.waitFor({ timeout: 30000 });
      await item.click();
      const popup = page.locator('.monaco-hover', { hasText: 'dlx-lint:' }).first();
      await popup.waitFor({ state: 'visible', timeout: 20000 });
      const text = await popup.innerText();
      result.language_status = text;
      await shot('1b-language-status.png');
      await page.keyboard.press('Escape');
      await page.mouse.move(10, 10);
      if (!/dlx-lint: ready/.test(text)) throw new Error(`language status: ${text}`);
      return { text };
    });

    // The flagged token: `optimizer.step()` on the case's line.
    const token = page.locator('.monaco-editor .view-line', { hasText: 'optimizer.step()' }).locator('span span', { hasText: 'step' }).first();
    if (problems) {
      await step(page, 'hover', async () => {
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+G');
        const goTo = page.locator('.quick-input-widget input');
        await goTo.waitFor({ state: 'visible', timeout: 30000 });
        await goTo.fill(`:${CASE_LINE}`);
        await page.keyboard.press('Enter');
        await token.waitFor({ timeout: 20000 });
        const widget = page.locator('.monaco-hover', { hasText: 'missing-zero-grad' }).first();
        for (let attempt = 1; ; attempt++) {
          const box = await token.boundingBox();
          if (box === null) throw new Error('flagged token not visible');
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          await page.mouse.move(box.x + box.width / 2 + 1, box.y + box.height / 2);
          try {
            await widget.waitFor({ state: 'visible', timeout: 15000 });
            break;
          } catch (error) {
            if (attempt >= 3) throw error;
            await page.mouse.move(10, 10);
            await page.waitForTimeout(500);
          }
        }
        const text = await widget.innerText();
        await shot('2-hover.png');
        if (!text.includes('Why is this bad?')) throw new Error(`hover without the explanation: ${text.slice(0, 300)}`);
        return { text: text.slice(0, 600) };
      });
    }

    let menu: string[] = [];
    const quickFix = problems && await step(page, 'quick_fix_menu', async () => {
      const box = await token.boundingBox();
      if (box === null) throw new Error('flagged token not visible');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      const disable = page.locator('.action-widget .monaco-list-row', { hasText: 'Disable DLX001 for this line' }).first();
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+.');
        try {
          await disable.waitFor({ timeout: 15000 });
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
      menu = await page.locator('.action-widget .monaco-list-row').allInnerTexts();
      await shot('3-quick-fix-menu.png');
      return { menu, fix_in_menu: menu.some((m) => m.includes('DLX001:')) };
    });
    result.quick_fix_menu = menu;
    result.fix_in_menu = menu.some((m) => m.includes('DLX001:'));

    const applied = quickFix && await step(page, 'apply_disable', async () => {
      // Keyboard, not a click: the menu's pointer block intercepts synthetic clicks.
      const focused = page.locator('.action-widget .monaco-list-row.focused');
      for (let i = 0; i < 10 && (await focused.getAttribute('aria-label').catch(() => null)) !== 'Disable DLX001 for this line'; i++) {
        await page.keyboard.press('ArrowDown');
      }
      await page.keyboard.press('Enter');
      const edited = page.locator('.monaco-editor .view-line', { hasText: 'noqa: DLX001' }).first();
      await edited.waitFor({ timeout: 20000 });
      const line = await edited.innerText();
      // The Problems panel loses the finding (no notebook is open yet, so no other DLX001).
      const deadline = Date.now() + WAIT_MS;
      let rows = await problemRows(page);
      while (rows.some((r) => r.includes('DLX001')) && Date.now() < deadline) {
        await page.waitForTimeout(300);
        rows = await problemRows(page);
      }
      await shot('4-after-disable.png');
      if (rows.some((r) => r.includes('DLX001'))) throw new Error(`DLX001 still listed: ${JSON.stringify(rows)}`);
      return { line: line.replace(/\u00a0/g, ' '), rows };
    });
    if (!opened) skip(['problems_panel'], 'case not opened');
    if (!problems) skip(['hover', 'quick_fix_menu'], 'no DLX001 in the Problems panel');
    if (!quickFix) skip(['apply_disable'], 'no quick fix menu');

    if (applied) {
      await step(page, 'rule_documentation', async () => {
        await page.locator('.monaco-editor .view-line', { hasText: 'noqa: DLX001' }).first().click();
        await page.keyboard.press('End');
        await runCommand(page, 'dlx-lint: Show Rule Documentation');
        const tab = page.locator('.tabs-container .tab', { hasText: 'DLX001' }).first();
        await tab.waitFor({ timeout: 30000 });
        await page.waitForTimeout(1500);
        await shot('5-rule-documentation.png');
        return { tab: await tab.innerText() };
      });
    } else {
      skip(['rule_documentation'], 'no noqa comment to ask about');
    }

    await step(page, 'notebook_problems', async () => {
      await page.keyboard.press('Escape');
      await openFromExplorer(page, NOTEBOOK, 'images = torch.randn');
      if (!(await page.locator('.markers-panel').isVisible())) await page.keyboard.press('Control+Shift+M');
      for (const code of ['DLX001', 'DLX010']) {
        await page.locator('.markers-panel .monaco-list-row', { hasText: code }).first().waitFor({ timeout: WAIT_MS });
      }
      await page.waitForTimeout(1000);
      await shot('6-notebook.png');
      return { rows: await problemRows(page) };
    });

    // Every notification so far (the negative control expects the "not installed" one).
    await step(page, 'notifications', async () => {
      await runCommand(page, 'Notifications: Show Notifications');
      await page.waitForTimeout(1000);
      const messages = await page.locator('.notifications-center .notification-list-item-message').allInnerTexts();
      result.notifications = messages;
      await shot('7-notifications.png');
      await page.keyboard.press('Escape');
      return { messages };
    });

    await step(page, 'api_driver', async () => {
      await runCommand(page, 'dlx-lint e2e: Run API checks');
      const deadline = Date.now() + DRIVER_WAIT_MS;
      while (!existsSync(apiJson) && Date.now() < deadline) await page.waitForTimeout(250);
      if (!existsSync(apiJson)) throw new Error('the API driver wrote no result');
      await page.waitForTimeout(500);
      await shot('8-after-api-driver.png');
      return undefined;
    });
  } catch (error) {
    result.error = String(error).slice(0, 800);
    await shot('error.png');
  } finally {
    result.pass = result.error === undefined && Object.values(checks).every((c) => c.pass);
    writeFileSync(join(outDir, 'gui.json'), JSON.stringify(result, null, 1));
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    lap(`done, pass=${String(result.pass)}`);
  }
}

main().then(
  () => process.exit(result.pass ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
