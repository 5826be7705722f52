#!/usr/bin/env python3
"""Checks that OtterViewer's folders depend on each other only as ALLOWED says: a directed acyclic graph that follows
the data flow (Storage below Metrics below Analysis below the APIs, receivers and pages; the Viewer on top).

"Depends" is found in the text, which is enough for what goes wrong in practice. A file uses another folder when it
names what that folder declares:
- a type, a top-level function, constant or variable (`struct`, `enum`, `class`, `protocol`, `actor`, `typealias`,
  `func`, `let`, `var` at the top level), or a type nested in an extension (`extension X { struct Y }`);
- a member that the folder adds to another folder's type with an extension (`.member`), an initializer it adds
  (`Type(label:`), or a member of a protocol extension;
when that name is declared in no other folder (a name two folders declare, or that Swift's own types have, such as
`description`, cannot be told apart without a compiler, and is left out). Comments and string literals are ignored.
Prints every use the graph does not allow and exits 1 when there is one; `--graph` prints the uses found per folder.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "OtterViewer")
# Each folder and the folders it may use (directly; what they use is not implied).
ALLOWED = {
    "Input": set(),
    "Storage": {"Input"},
    "SpanMetrics": {"Input", "Storage"},
    "Analysis": {"Input", "Storage", "SpanMetrics"},
    "HTTP": {"Input", "Storage", "Analysis"},
    "Query": {"Input", "HTTP", "Storage", "SpanMetrics", "Analysis"},
    "Receivers": {"Input", "HTTP", "Storage"},
    "RemoteStorage": {"Input", "Storage", "Analysis", "Query"},
    "Forwarding": {"Input", "HTTP", "Storage", "Analysis"},
    "MCP": {"Input", "HTTP", "Storage", "SpanMetrics", "Analysis", "Query"},
    "UI": {"Input", "HTTP", "Storage", "SpanMetrics", "Analysis", "Query", "Forwarding"},
    "Viewer": {"Input", "HTTP", "Storage", "SpanMetrics", "Analysis", "Query", "Receivers", "RemoteStorage", "Forwarding", "MCP",
               "UI"},
}
MODIFIERS = r"(?:(?:public|package|internal|private|fileprivate|final|indirect|static|nonisolated|mutating|@\w+(?:\([^)]*\))?)\s+)*"
TOP_LEVEL = re.compile(rf"^{MODIFIERS}(?:struct|enum|class|protocol|actor|typealias|func|let|var)\s+(\w+)", re.M)
EXTENSION = re.compile(r"^(?:(?:public|package|internal)\s+)?extension\s+([\w.]+)[^{]*\{(.*?)^\}", re.M | re.S)
MEMBER = re.compile(rf"^    {MODIFIERS}(?:func|var|let|case)\s+(\w+)", re.M)
NESTED_TYPE = re.compile(rf"^    {MODIFIERS}(?:struct|enum|class|typealias)\s+(\w+)", re.M)
INITIALIZER = re.compile(rf"^    {MODIFIERS}init[?!]?\((\w+)", re.M)
# Members every Swift value may have: a use of these names says nothing about who declared them.
COMMON = {"description", "debugDescription", "hash", "encode", "decode", "init", "text", "json", "value", "count", "name",
          "adding", "contains", "first", "last", "map", "isEmpty", "rawValue", "run"}


def layer_of(path):
    relative = os.path.relpath(path, ROOT)
    return relative.split(os.sep)[0] if os.sep in relative else "Viewer"


def code_only(text):
    """The text without comments and string literals (multi-line strings included), lines kept."""
    text = re.sub(r'"""(?:.|\n)*?"""', lambda m: "\n" * m.group(0).count("\n"), text)
    text = re.sub(r'#"(?:[^"\n]|"(?!#))*"#', '""', text)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
    text = re.sub(r"/\*(?:.|\n)*?\*/", lambda m: "\n" * m.group(0).count("\n"), text)
    return re.sub(r"//[^\n]*", "", text)


def declarations(files):
    """Every name that identifies a folder's declaration: (kind, name) -> folder, unique names only."""
    found = {}

    def add(key, layer):
        found.setdefault(key, set()).add(layer)

    types = {}
    for path, text in files.items():
        for match in TOP_LEVEL.finditer(text):
            types.setdefault(match.group(1), layer_of(path))
            add(("word", match.group(1)), layer_of(path))
    for path, text in files.items():
        layer = layer_of(path)
        for extension in EXTENSION.finditer(text):
            extended, body = extension.group(1).split(".")[0], extension.group(2)
            for nested in NESTED_TYPE.finditer(body):
                add(("word", nested.group(1)), layer)
            if types.get(extended) == layer:
                continue  # a folder extending its own type
            for member in MEMBER.finditer(body):
                add(("member", member.group(1)), layer)
            for initializer in INITIALIZER.finditer(body):
                add(("init", f"{extended}({initializer.group(1)}:"), layer)
    return {key: layers.pop() for key, layers in found.items() if len(layers) == 1 and key[1] not in COMMON}


def main():
    files = {}
    for folder, directories, names in os.walk(ROOT):
        directories[:] = [d for d in directories if d != "Generated" and not d.endswith(".docc")]
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    files[path] = code_only(file.read())
    unknown = sorted({layer_of(p) for p in files} - set(ALLOWED))
    if unknown:
        print(f"check-viewer-layers: folders with no place in the graph: {', '.join(unknown)} (add them to ALLOWED)")
        return 1
    declared = declarations(files)
    words = {name: layer for (kind, name), layer in declared.items() if kind == "word"}
    members = {name: layer for (kind, name), layer in declared.items() if kind == "member"}
    initializers = [(pattern, layer) for (kind, pattern), layer in declared.items() if kind == "init"]
    problems, uses = [], {}
    for path, text in sorted(files.items()):
        layer = layer_of(path)
        for number, line in enumerate(text.split("\n"), start=1):
            found = [(words.get(word), word) for word in set(re.findall(r"\b[A-Za-z_]\w*\b", line))]
            found += [(members.get(word), "." + word) for word in set(re.findall(r"\.(\w+)\b", line))]
            found += [(owner, pattern) for pattern, owner in initializers if re.search(re.escape(pattern), line)]
            for owner, name in found:
                if owner is None or owner == layer:
                    continue
                uses.setdefault(layer, set()).add(owner)
                if owner not in ALLOWED[layer]:
                    problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {layer} uses {name} from {owner}")
    if "--graph" in sys.argv:
        for layer in ALLOWED:
            print(f"{layer} uses {', '.join(sorted(uses.get(layer, []))) or 'nothing'}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-viewer-layers: {len(problems)} uses the graph does not allow (scripts/check-viewer-layers.py ALLOWED)")
        return 1
    print(f"check-viewer-layers: {len(files)} files use only what ALLOWED lets their folder use")
    return 0


if __name__ == "__main__":
    sys.exit(main())
