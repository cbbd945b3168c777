/**
 * The demo page in headless Chromium (playwright-core, Debian's /usr/bin/chromium): two browser contexts are two
 * users on one deck. Everything is checked through what the pages show. Screenshots go to test/artifacts/.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { ROOT, startServer, type TestServer } from '../helpers/server.js';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const VIEWPORT = { width: 1100, height: 680 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const editor = (page: Page) => page.locator('[data-testid=editor] .ProseMirror');
const toast = (page: Page, kind: string, text: string) => page.locator(`[data-testid=toast][data-kind=${kind}]`, { hasText: text });

/** Both pages side by side in one PNG, composed by the browser itself. */
async function sideBySide(browser: Browser, pages: Page[], path: string): Promise<void> {
  const shots = await Promise.all(pages.map((page) => page.screenshot()));
  const context = await browser.newContext({ viewport: { width: VIEWPORT.width * 2 + 12, height: VIEWPORT.height + 12 } });
  const composer = await context.newPage();
  const images = shots.map((png) => `<img src="data:image/png;base64,${png.toString('base64')}" style="width:${VIEWPORT.width}px">`).join('');
  await composer.setContent(`<body style="margin:0;padding:6px;display:flex;gap:12px;background:#2b2f3a">${images}</body>`);
  await composer.screenshot({ path });
  await context.close();
}

describe('demo page: two users in two browser contexts', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const deck = `e2e-${Date.now()}`;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // No JWT key configured: the server signs with its own dev secret, which is when the demo's dev token route exists.
    server = await startServer({
      DATABASE_URL: await createTestDatabase('e2e'),
      JWT_SECRET: '',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'deckhand-e2e-')),
    });
    // launch() runs Chromium on a fresh temporary profile (user-data dir), removed on close.
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const open = async (name: string) => {
      const context = await browser.newContext({ viewport: VIEWPORT });
      const page = await context.newPage();
      await page.goto(`${server.url}/?name=${name}&deck=${deck}`);
      await editor(page).waitFor();
      return page;
    };
    alice = await open('Alice'); // first in: owner, creates the Welcome slide
    bob = await open('Bob'); // joins as editor
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows each user the other's text, comments, avatar and cursor", async () => {
    await bob.getByTestId('comment-input').fill('Nice opening line');
    await bob.getByTestId('comment-add').click();
    await alice.getByTestId('comment').filter({ hasText: 'Nice opening line' }).filter({ hasText: 'Bob' }).waitFor();

    await editor(alice).click();
    await alice.keyboard.press('End');
    await alice.keyboard.type(' Alice was here.');
    await bob.getByTestId('title-input').click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(' from Bob');

    await editor(bob).filter({ hasText: 'Alice was here.' }).waitFor();
    await alice.waitForFunction(() => (document.querySelector('[data-testid=title-input]') as HTMLInputElement).value === 'Welcome from Bob');
    await alice.locator('[data-testid=avatar][data-name=Bob]').waitFor();
    await bob.locator('[data-testid=avatar][data-name=Alice]').waitFor();
    // Alice's caret in Bob's editor (TipTap CollaborationCaret), and Bob's in the title on Alice's page.
    await bob.locator('.collaboration-carets__label', { hasText: 'Alice' }).waitFor();
    await alice.getByText('Bob editing the title').waitFor();
    await alice.locator('[data-testid=status]', { hasText: 'Saved' }).waitFor();

    await sideBySide(browser, [alice, bob], join(ARTIFACTS, 'two-users.png'));
  });

  it("refuses the other user's edit on a locked slide, and shows why", async () => {
    await alice.getByTestId('lock-button').click();
    await alice.getByTestId('lock-button').filter({ hasText: 'Unlock slide' }).waitFor();
    await bob.getByTestId('lock-badge').filter({ hasText: 'Locked by Alice' }).waitFor();
    await bob.getByTestId('lock-banner').waitFor();
    expect(await bob.getByTestId('lock-button').isDisabled()).toBe(true);

    await editor(bob).click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(' INTRUDER');
    await toast(bob, 'error', 'locked by Alice').waitFor();
    // Rolled back by the server on every replica: Bob's own editor converges to the text without it.
    await bob.waitForFunction(() => !document.querySelector('[data-testid=editor]')!.textContent!.includes('INTRUDER'));
    expect(await editor(alice).textContent()).not.toContain('INTRUDER');
    await bob.screenshot({ path: join(ARTIFACTS, 'lock-refused.png') });

    // A refused delete cannot be undone in Bob's own document: the SDK replaces it with the server's, and the page
    // binds its title field and editor to the new one.
    const title = await alice.getByTestId('title-input').inputValue();
    await bob.getByTestId('title-input').click();
    await bob.keyboard.press('End');
    for (let i = 0; i < 3; i++) await bob.keyboard.press('Backspace');
    const titleIs = (text: string) => `document.querySelector('[data-testid=title-input]').value === ${JSON.stringify(text)}`;
    await bob.waitForFunction(titleIs(title));

    await alice.getByTestId('lock-button').click();
    await bob.getByTestId('lock-badge').waitFor({ state: 'detached' });
    // Bob's page edits the new document: his edits reach Alice.
    await bob.getByTestId('title-input').click();
    await bob.keyboard.press('End');
    await bob.keyboard.type('!');
    await alice.waitForFunction(titleIs(`${title}!`));
    await bob.keyboard.press('Backspace');
    await alice.waitForFunction(titleIs(title));
    await editor(bob).click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(' after resync');
    await alice.waitForFunction(() => document.querySelector('[data-testid=editor]')!.textContent!.includes('after resync'));
  });

  it('follows a generation job to 100 %, adds its slides for everyone, and shows the notification', async () => {
    const slidesBefore = await bob.getByTestId('slide-item').count();
    await alice.getByTestId('generate').click();
    await alice.locator('[data-testid=progress][aria-valuenow="100"][data-status=completed]').waitFor();
    expect(await alice.getByTestId('progress-label').textContent()).toContain('100%');
    await bob.waitForFunction((n) => document.querySelectorAll('[data-testid=slide-item]').length === n + 4, slidesBefore);
    await bob.getByTestId('slide-item').filter({ hasText: 'Quarterly review: Why it matters' }).waitFor();

    // The automatic notification of the job's end.
    const notification = toast(alice, 'success', 'Slides about Quarterly review completed');
    await notification.waitFor();
    await alice.screenshot({ path: join(ARTIFACTS, 'generation.png') });
    await notification.getByRole('button', { name: 'Mark read' }).click();
    await notification.waitFor({ state: 'detached' });
  });

  it('deletes a slide for everyone; a slide someone else locked cannot be deleted', async () => {
    const target = 'Quarterly review: Why it matters';
    const before = await alice.getByTestId('slide-item').count();
    await bob.getByTestId('slide-item').filter({ hasText: target }).click();
    expect(await bob.getByTestId('title-input').inputValue()).toBe(target);
    await bob.getByTestId('lock-button').click();
    await alice.getByTestId('slide-item').filter({ hasText: target }).click();
    await alice.getByTestId('lock-badge').filter({ hasText: 'Locked by Bob' }).first().waitFor();
    await alice.getByTestId('lock-banner').waitFor();
    expect(await alice.getByTestId('title-input').inputValue()).toBe(target);
    expect(await alice.getByTestId('delete-slide').isDisabled()).toBe(true);

    await bob.getByTestId('delete-slide').click();
    await alice.waitForFunction((n) => document.querySelectorAll('[data-testid=slide-item]').length === n - 1, before);
    expect(await alice.getByTestId('slide-item').filter({ hasText: target }).count()).toBe(0);
    // Alice was on the deleted slide: she is moved to the first one, and no lock of it is left behind.
    await alice.waitForFunction(() => (document.querySelector('[data-testid=title-input]') as HTMLInputElement).value === 'Welcome from Bob');
    expect(await alice.getByTestId('lock-badge').count()).toBe(0);
  });

  it('moves a slide down for everyone (its order key), and not a slide someone else holds', async () => {
    const titles = (page: Page) => page.getByTestId('slide-item').locator('.slide-title').allTextContents();
    const before = await titles(alice);
    expect(before.length).toBeGreaterThan(2);
    await alice.getByTestId('move-down').first().click();
    const after = [before[1], before[0], ...before.slice(2)];
    await bob.waitForFunction(
      (t) => JSON.stringify([...document.querySelectorAll('[data-testid=slide-item] .slide-title')].map((e) => e.textContent)) === t,
      JSON.stringify(after),
    );
    expect(await titles(alice)).toEqual(after);
    // Bob holds the (now) first slide: Alice cannot move it.
    await bob.getByTestId('slide-item').first().click();
    await bob.getByTestId('lock-button').click();
    await alice.getByTestId('lock-badge').filter({ hasText: 'Locked by Bob' }).first().waitFor();
    expect(await alice.getByTestId('move-down').first().isDisabled()).toBe(true);
    await bob.getByTestId('lock-button').click();
    await alice.waitForFunction(() => document.querySelectorAll('[data-testid=lock-badge]').length === 0);
    // And back up: the deck as the next tests expect it.
    await alice.getByTestId('move-up').nth(1).click();
    await bob.waitForFunction(
      (t) => JSON.stringify([...document.querySelectorAll('[data-testid=slide-item] .slide-title')].map((e) => e.textContent)) === t,
      JSON.stringify(before),
    );
  });

  it('saves a version, restores it for everyone, and undoes the restore from the toast', async () => {
    const titleIs = (page: Page, text: string) =>
      page.waitForFunction((t) => (document.querySelector('[data-testid=title-input]') as HTMLInputElement).value === t, text);
    await bob.getByTestId('slide-item').first().click();
    const original = await alice.getByTestId('title-input').inputValue();
    await titleIs(bob, original);

    await alice.getByTestId('version-label').fill('Checkpoint');
    await alice.getByTestId('version-save').click();
    const checkpoint = alice.getByTestId('version').filter({ hasText: 'Checkpoint' });
    await checkpoint.waitFor();

    await alice.getByTestId('title-input').click();
    await alice.keyboard.press('End');
    await alice.keyboard.type(' (edited)');
    await titleIs(bob, `${original} (edited)`);
    await alice.locator('[data-testid=status]', { hasText: 'Saved' }).waitFor();

    await checkpoint.getByTestId('version-restore').click();
    const restored = toast(alice, 'success', 'Version restored');
    await restored.waitFor();
    // Bob's page follows without reloading; Alice's list now has the backup taken before the restore.
    await titleIs(bob, original);
    await titleIs(alice, original);
    await alice.locator('[data-testid=version][data-kind=backup]').first().waitFor();
    await alice.screenshot({ path: join(ARTIFACTS, 'version-restored.png') });

    await restored.getByRole('button', { name: 'Undo' }).click();
    await titleIs(bob, `${original} (edited)`);
    await toast(alice, 'info', 'Restore undone').waitFor();
  });

  it('chats with a typing indicator and read marks; status dots show what each user chose', async () => {
    await bob.getByTestId('chat-input').click();
    await bob.keyboard.type('Hi Alice, ready?');
    await alice.getByTestId('chat-typing').filter({ hasText: 'Bob is typing' }).waitFor();
    await bob.keyboard.press('Enter');
    const onAlice = alice.getByTestId('chat-message').filter({ hasText: 'Hi Alice, ready?' });
    await onAlice.filter({ hasText: 'Bob' }).waitFor();
    await alice.waitForFunction(() => document.querySelector('[data-testid=chat-typing]')!.textContent === '');
    // Alice's page is in view, so it marks the message read; Bob sees her read mark under it.
    const onBob = bob.getByTestId('chat-message').filter({ hasText: 'Hi Alice, ready?' });
    await onBob.getByTestId('chat-seen').filter({ hasText: 'Seen by Alice' }).waitFor();

    await alice.getByTestId('chat-input').fill('Ready!');
    await alice.getByTestId('chat-send').click();
    await bob.getByTestId('chat-message').filter({ hasText: 'Ready!' }).waitFor();
    // Bob takes his message back: both see the tombstone.
    await onBob.getByTestId('chat-delete').click();
    await alice.getByTestId('chat-message').filter({ hasText: 'Message deleted' }).waitFor();
    expect(await alice.getByTestId('chat-message').filter({ hasText: 'Hi Alice, ready?' }).count()).toBe(0);

    const aliceDotOnBob = (status: string) => bob.locator(`[data-testid=avatar][data-name=Alice] [data-testid=status-dot][data-status=${status}]`);
    await aliceDotOnBob('online').waitFor();
    await alice.getByTestId('status-select').selectOption('busy');
    await aliceDotOnBob('busy').waitFor();
    await alice.locator('[data-testid=avatar][data-name=Bob] [data-testid=status-dot][data-status=online]').waitFor();
    await sideBySide(browser, [alice, bob], join(ARTIFACTS, 'chat.png'));
    await alice.getByTestId('status-select').selectOption('online');
    await aliceDotOnBob('online').waitFor();
  });
});
