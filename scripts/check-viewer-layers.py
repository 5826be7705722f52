#!/usr/bin/env python3
"""Checks that OtterViewer's folders form layers with the data flow: a file may use what the folders below it (earlier
in LAYERS) and its own folder declare, never what a folder above it declares.

    Input ← HTTP ← Storage ← Metrics ← Analysis ← Query ← Receivers ← RemoteStorage ← Forwarding ← MCP ← UI ← Viewer

"Uses" is textual, and it is enough for what goes wrong in practice: a file names a type (struct, enum, class, protocol,
actor, typealias) or a top-level function declared in another folder, or calls a member that a file of another folder
adds to a type with an extension. Comments and string literals are left out. Prints every use against the layers and
exits 1 when there is one.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "OtterViewer")
LAYERS = ["Input", "HTTP", "Storage", "Metrics", "Analysis", "Query", "Receivers", "RemoteStorage", "Forwarding", "MCP",
          "UI", "Viewer"]
MODIFIERS = r"(?:(?:public|package|internal|private|fileprivate|final|indirect|static|nonisolated|@\w+(?:\([^)]*\))?)\s+)*"
TOP_LEVEL = re.compile(rf"^{MODIFIERS}(?:struct|enum|class|protocol|actor|typealias|func)\s+(\w+)", re.M)
EXTENSION = re.compile(r"^(?:(?:public|package|internal)\s+)?extension\s+([\w.]+)[^{]*\{(.*?)^\}", re.M | re.S)
MEMBER = re.compile(rf"^    {MODIFIERS}(?:func|var|let)\s+(\w+)", re.M)


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


def main():
    files = {}
    for folder, directories, names in os.walk(ROOT):
        directories[:] = [d for d in directories if d != "Generated" and not d.endswith(".docc")]
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    files[path] = code_only(file.read())
    unknown = sorted({layer_of(p) for p in files} - set(LAYERS))
    if unknown:
        print(f"check-viewer-layers: folders with no layer: {', '.join(unknown)} (add them to LAYERS)")
        return 1
    types = {}  # name -> layer that declares it
    members = {}  # member name added by an extension of another folder's type -> layer of the extension
    for path, text in files.items():
        for match in TOP_LEVEL.finditer(text):
            types.setdefault(match.group(1), layer_of(path))
    for path, text in files.items():
        for extension in EXTENSION.finditer(text):
            extended = extension.group(1).split(".")[0]
            if extended in types and types[extended] == layer_of(path):
                continue  # a folder extending its own type
            for member in MEMBER.finditer(extension.group(2)):
                if len(member.group(1)) >= 6:  # short names (`text`, `json`) are too common to attribute
                    members.setdefault(member.group(1), layer_of(path))
    problems = []
    for path, text in sorted(files.items()):
        layer = LAYERS.index(layer_of(path))
        for number, line in enumerate(text.split("\n"), start=1):
            for word in set(re.findall(r"\b[A-Z]\w+\b", line)):
                owner = types.get(word)
                if owner and LAYERS.index(owner) > layer:
                    problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {layer_of(path)} uses {word} from {owner}")
            for word in set(re.findall(r"\.(\w+)\b", line)):
                owner = members.get(word)
                if owner and LAYERS.index(owner) > layer:
                    problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {layer_of(path)} uses .{word} from {owner}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-viewer-layers: {len(problems)} uses against the layers ({' ← '.join(LAYERS)})")
        return 1
    print(f"check-viewer-layers: {len(files)} files keep to the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
