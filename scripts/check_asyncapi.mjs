// Parse the AsyncAPI document with the official parser (@asyncapi/parser) and print, as JSON, its
// diagnostics and what it read as each channel's publishing user (the AMQP binding's userId).
// Exit 1 on any error or warning. Run by tests/contract (make test): `node scripts/check_asyncapi.mjs [file]`.
import { Parser, fromFile } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "info", "hint"];
const path = process.argv[2] ?? "docs/events/asyncapi.yaml";
const { document, diagnostics } = await fromFile(new Parser(), path).parse();
const owners = {};
for (const channel of document?.channels().all() ?? []) {
  for (const operation of channel.operations().all()) {
    owners[channel.address()] = operation.bindings().get("amqp")?.value()?.userId ?? null;
  }
}
const found = diagnostics.map((d) => ({ severity: SEVERITY[d.severity], code: d.code, path: d.path.join("."), message: d.message }));
console.log(JSON.stringify({ parsed: document !== undefined, diagnostics: found, owners }, null, 2));
process.exit(found.some((d) => d.severity === "error" || d.severity === "warning") ? 1 : 0);
