// Drives a codemode MCP server with the official TypeScript SDK (@modelcontextprotocol/sdk).
//
// Usage:
//   node ts_client.mjs stdio <command> [args...]
//   node ts_client.mjs http <url>
//
// Connects, lists tools, calls `search` and `execute`, and prints one JSON object on stdout
// (same shape as py_client.py). The Rust test asserts on it; this script only reports.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

function summarize(result) {
  return {
    isError: result.isError === true,
    text: (result.content ?? []).filter((b) => b.type === "text").map((b) => b.text),
    structured: result.structuredContent ?? null,
  };
}

async function main(argv) {
  const [mode, target, ...rest] = argv;
  let transport;
  if (mode === "stdio" && target) {
    transport = new StdioClientTransport({ command: target, args: rest, stderr: "inherit" });
  } else if (mode === "http" && target) {
    transport = new StreamableHTTPClientTransport(new URL(target));
  } else {
    console.error("usage: ts_client.mjs stdio <command> [args...] | http <url>");
    return 2;
  }
  const client = new Client({ name: "codemode-ts-test", version: "1.0.0" });
  await client.connect(transport);
  const listed = await client.listTools();
  const search = await client.callTool({ name: "search", arguments: { query: "list pets" } });
  const execute = await client.callTool({ name: "execute", arguments: { code: "return { sum: 1 + 1 }" } });
  const errorCall = await client.callTool({ name: "execute", arguments: { code: "throw new Error('boom')" } });
  console.log(
    JSON.stringify({
      sdk: "typescript",
      tools: listed.tools.map((t) => t.name),
      search: summarize(search),
      execute: summarize(execute),
      error_call: summarize(errorCall),
    }),
  );
  await client.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error?.stack ?? error));
    process.exit(1);
  },
);
