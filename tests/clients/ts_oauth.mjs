// Drives a codemode MCP server over streamable HTTP with the official TypeScript SDK
// (@modelcontextprotocol/sdk), sending `Authorization: Bearer <token>` on every request.
//
// Usage:
//   node ts_oauth.mjs <url> <token>      (token "-" sends no Authorization header)
//
// Connects, lists tools and runs `execute` with a program that calls the upstream once, then
// prints one JSON object on stdout (the shape py_oauth.py prints): {"ok": true, "tools": [...],
// "execute": {...}} when every step succeeded, or {"ok": false, "error": "<what failed>"} when
// the server refused (the SDK throws) or nothing came within 20 s. The Rust test asserts on it;
// this script only reports.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

function summarize(result) {
  return {
    isError: result.isError === true,
    text: (result.content ?? []).filter((b) => b.type === "text").map((b) => b.text),
    structured: result.structuredContent ?? null,
  };
}

async function exercise(url, token) {
  const headers = token === "-" ? {} : { Authorization: `Bearer ${token}` };
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: "codemode-ts-oauth-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const listed = await client.listTools();
    const execute = await client.callTool({
      name: "execute",
      arguments: { code: "const pets = await api.listPets(); return { n: pets.length }" },
    });
    return { ok: true, tools: listed.tools.map((t) => t.name), execute: summarize(execute) };
  } finally {
    await client.close();
  }
}

async function main(argv) {
  if (argv.length !== 2) {
    console.error("usage: ts_oauth.mjs <url> <token>");
    return 2;
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: "no answer within 20 s" }), 20_000);
  });
  const report = await Promise.race([
    exercise(argv[0], argv[1]).catch((error) => ({
      ok: false,
      error: `${error?.name ?? "Error"}: ${error?.message ?? error}${error?.code ? ` (code ${error.code})` : ""}`,
    })),
    timeout,
  ]);
  clearTimeout(timer);
  console.log(JSON.stringify(report));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error?.stack ?? error));
    process.exit(1);
  },
);
