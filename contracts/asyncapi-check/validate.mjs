// Parses each AsyncAPI document given on the command line with the official parser, from its
// text alone (no file location: the documents must be self-contained), and prints one JSON line
// per document: {"file", "errors": [...], "warnings": n}. Exit 1 when any document has an error.
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"));
  const errors = diagnostics
    .filter((d) => d.severity === DiagnosticSeverity.Error)
    .map((d) => `${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
  if (errors.length || !document) failed = true;
  const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map((d) => `${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
  console.log(JSON.stringify({ file, parsed: Boolean(document), errors, warnings }));
}
process.exit(failed ? 1 : 0);
