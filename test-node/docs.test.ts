// /docs in a real browser against a real `npm run dev` (startDevServer), with every request to
// anything but this machine blocked: the page must work fully offline. Needs Debian's chromium
// (`apt-get install -y chromium`); without it the test is skipped, except under CI=true, where
// it fails. Saves screenshots to test-node/artifacts/ (gitignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, root, startDevServer, stopDevServer } from "../scripts/dev-server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(root, "test-node", "artifacts");
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
if (!haveChromium && !inCi) {
  console.warn(
    `test-node/docs.test.ts skipped: no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH). Under CI=true this fails instead.`,
  );
}

describe.skipIf(!haveChromium && !inCi)("/docs in a real browser, offline", () => {
  let server: DevServer | undefined;
  let browser: Browser | undefined;
  let stateDir: string | undefined;

  beforeAll(async () => {
    if (!haveChromium) return; // CI=true: the test below fails, counted as a failed test
    stateDir = mkdtempSync(join(tmpdir(), "docs-test-state-"));
    server = await startDevServer({ persistTo: stateDir }); // its own local state, on free ports
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await stopDevServer(server);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("lists the sync operation, runs GET /health from 'Try it out', and asks nothing of any other host", async () => {
    expect(haveChromium, `no browser at ${CHROMIUM}: apt-get install -y chromium (CI=true requires it)`).toBe(true);
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requested: string[] = [];
    const blocked: string[] = [];
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      requested.push(url.pathname);
      if (LOOPBACK.has(url.hostname)) return route.continue();
      blocked.push(url.href);
      return route.abort("blockedbyclient");
    });
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !/favicon\.ico/.test(msg.location().url)) problems.push(`console: ${msg.text()}`);
    });

    // `/` links to the reference.
    await page.goto(`${server!.base}/`);
    await page.getByRole("link", { name: "API reference" }).click();
    await page.waitForURL(`${server!.base}/docs`);

    const sync = page.locator('.opblock-post .opblock-summary-path[data-path="/v1/connectors/pipeline/sync"]');
    await sync.waitFor({ timeout: 30_000 });
    await expect(page.locator(".info .title").innerText()).resolves.toContain("Unified sync endpoint");
    expect(await page.locator(".opblock").count()).toBe(20);

    const health = page.locator("#operations-Service-health");
    await health.locator(".opblock-summary").first().click();
    await health.locator("button.try-out__btn").click();
    await health.locator("button.execute").click();
    const liveResponse = health.locator(".live-responses-table .response");
    await liveResponse.first().waitFor({ timeout: 30_000 });
    await expect(liveResponse.locator(".response-col_status").first().innerText()).resolves.toContain("200");
    const shown = (await liveResponse.locator(".response-col_description").first().innerText()).replace(/\s+/g, "");
    expect(shown).toContain('{"status":"ok"}');

    // Authorize: three boxes, each saying which key goes in it; the first takes the development key.
    await page.locator("button.authorize").first().click();
    const boxes = page.locator(".modal-ux .auth-container");
    await boxes.first().waitFor({ timeout: 10_000 });
    const texts = (await boxes.allInnerTexts()).map((t) => t.replace(/\s+/g, " "));
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(/ApiKey.*Paste your API key here.*DEV_API_KEY/);
    expect(texts[1]).toMatch(/ApiKeyBearer.*leave this empty when the box above is filled/);
    expect(texts[2]).toMatch(/AdminToken.*Admin routes .* only.*not an API key/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator(".modal-ux").screenshot({ path: join(ARTIFACTS, "docs-authorize.png") });
    await page.locator(".modal-ux button.close-modal").click();

    const shot = join(ARTIFACTS, "docs.png");
    await page.screenshot({ path: shot, fullPage: true });
    await health.screenshot({ path: join(ARTIFACTS, "docs-health.png") });
    console.log(`screenshots: ${shot}, ${join(ARTIFACTS, "docs-health.png")}`);

    expect(blocked, "requests to other hosts").toEqual([]);
    expect(problems).toEqual([]);
    // Everything came from the Worker: the page, Swagger UI's files, the document, the health call.
    expect(requested).toEqual(
      expect.arrayContaining([
        "/docs",
        "/docs/swagger-ui-dist/swagger-ui-bundle.js",
        "/docs/swagger-ui-dist/swagger-ui.css",
        "/openapi.json",
        "/health",
      ]),
    );
    await context.close();
  });
});
