"""A real MCP client (the official Python SDK, PyPI `mcp`) against Otter's MCP servers.

    mcp_client.py stdio OTTER_EXECUTABLE VIEWER_URL [TOKEN] < calls.json
    mcp_client.py http  MCP_URL [TOKEN] < calls.json

Connects (over stdio to `otter mcp --viewer VIEWER_URL`, or over streamable HTTP to the viewer's /mcp), initializes,
lists the tools and calls each tool of the JSON list on standard input ([{"name": ..., "arguments": {...}}, ...]) in
turn. Prints one JSON document: the negotiated protocol version, the server's name, the tools (name, read-only hint,
input schema) and each call's result (isError, text, structuredContent), or the JSON-RPC error it got.
"""
import json
import sys

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


async def run(session, calls):
    initialized = await session.initialize()
    listed = await session.list_tools()
    report = {
        "protocol_version": initialized.protocol_version,
        "server_name": initialized.server_info.name,
        "tools": [
            {
                "name": tool.name,
                "read_only": bool(tool.annotations and tool.annotations.read_only_hint),
                "input_schema": tool.input_schema,
            }
            for tool in listed.tools
        ],
        "calls": [],
    }
    for call in calls:
        try:
            result = await session.call_tool(call["name"], call.get("arguments") or {})
            report["calls"].append({
                "is_error": bool(result.is_error),
                "text": "\n".join(item.text for item in result.content if item.type == "text"),
                "structured": result.structured_content,
            })
        except MCPError as error:
            report["calls"].append({"rpc_error": {"code": error.error.code, "message": error.error.message}})
    return report


async def main():
    transport = sys.argv[1]
    calls = json.load(sys.stdin)
    if transport == "stdio":
        arguments = ["mcp", "--viewer", sys.argv[3]] + (["--token", sys.argv[4]] if len(sys.argv) > 4 else [])
        parameters = StdioServerParameters(command=sys.argv[2], args=arguments)
        async with stdio_client(parameters) as (read, write):
            async with ClientSession(read, write) as session:
                report = await run(session, calls)
    else:
        headers = {"Authorization": f"Bearer {sys.argv[3]}"} if len(sys.argv) > 3 else {}
        async with httpx2.AsyncClient(headers=headers, timeout=600) as client:
            async with streamable_http_client(sys.argv[2], http_client=client) as (read, write):
                async with ClientSession(read, write) as session:
                    report = await run(session, calls)
    print(json.dumps(report))


anyio.run(main)
