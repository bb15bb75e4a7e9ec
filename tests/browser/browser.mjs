// Headless Chromium for the page tests (driven by tests/browser/*.py): axe-core checks of pages,
// and the journey a citizen makes from the opt-in mail. Reads one JSON job on stdin, prints one
// JSON result on stdout. Debian's /usr/bin/chromium (scripts/ensure_infra.sh); no browser download.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

async function audit(page) {
  // the pages' CSP allows no script: the context bypasses it for axe only
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  const serious = result.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  // keyboard: the first Tab reaches the skip link, which leads to <main>
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { text: el.textContent.trim(), href: el.getAttribute("href"), outline: style.outlineStyle,
      top: el.getBoundingClientRect().top };
  });
  const landmarks = await page.evaluate(() => ({
    main: document.querySelectorAll("main").length, header: document.querySelectorAll("header").length,
    footer: document.querySelectorAll("footer").length, nav: document.querySelectorAll("nav").length,
    lang: document.documentElement.lang, h1: document.querySelectorAll("h1").length,
  }));
  return {
    violations: serious.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })),
    minor: result.violations.filter((v) => !serious.includes(v)).map((v) => v.id),
    firstFocus: first, landmarks,
  };
}

async function audits(context, job) {
  const results = {};
  for (const url of job.urls) {
    const page = await context.newPage();
    const response = await page.goto(url);
    if (job.screenshots && job.screenshots[url]) {  // before the audit's Tab shows the skip link
      await page.screenshot({ path: job.screenshots[url], fullPage: true });
    }
    results[url] = { status: response.status(), ...(await audit(page)) };
    await page.close();
  }
  return results;
}

// The citizen's way from the opt-in mail: confirm, "my data", language, export, delete.
async function journey(context, job) {
  const seen = {};
  const page = await context.newPage();
  await page.goto(job.confirm_url);
  if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
  seen.confirm = { title: await page.title(), button: await page.getByRole("button").innerText(),
    audit: await audit(page) };
  await page.getByRole("button").click();
  await page.waitForLoadState();
  seen.confirmed = await page.locator("main").innerText();
  await page.locator("main a").first().click();  // "my data"
  await page.waitForLoadState();
  seen.my_data = { url: page.url(), email: await page.locator("#email").innerText(), audit: await audit(page) };
  await page.getByLabel(job.other_language_name).check();
  await page.locator("main form button[type=submit]").click();
  await page.waitForLoadState();
  seen.after_language = { url: page.url(), lang: await page.evaluate(() => document.documentElement.lang),
    notice: await page.locator("[role=status]").innerText() };
  const [download] = await Promise.all([page.waitForEvent("download"),
    page.locator("a[download]").click()]);
  seen.export = JSON.parse(readFileSync(await download.path(), "utf8"));
  await page.locator("section#delete a, section[aria-labelledby=delete] a").first().click();
  await page.waitForLoadState();
  seen.delete_question = { text: await page.locator("main").innerText(), audit: await audit(page) };
  await page.getByRole("button").click();
  await page.waitForLoadState();
  seen.deleted = await page.locator("main").innerText();
  return seen;
}

const job = JSON.parse(readFileSync(0, "utf8"));
const browser = await chromium.launch({ executablePath: job.chromium || "/usr/bin/chromium", args: ARGS });
try {
  const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true,
    locale: job.locale || "de-DE", viewport: { width: 1280, height: 900 } });
  const result = job.kind === "journey" ? await journey(context, job) : await audits(context, job);
  process.stdout.write(JSON.stringify(result));
} finally {
  await browser.close();
}
