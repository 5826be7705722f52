#!/usr/bin/env python3
"""Every module a target imports is a dependency it declares in Package.swift, and every declared dependency is
imported. `swift build --explicit-target-dependency-import-check error` checks imports of the package's own targets;
this also checks products of other packages (Logging, Tracing, NIOCore...), which that check lets through when some
other dependency happens to build them first. Exits 1 and lists each mismatch."""
import glob
import json
import re
import subprocess
import sys

# Modules that come with the toolchain: never declared.
TOOLCHAIN = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Testing", "XCTest", "Synchronization",
             "Dispatch", "Glibc", "Musl", "Darwin", "_Concurrency"}
# Any attributes (@testable, @preconcurrency, @_spi(...), @_implementationOnly...), any access level, any import kind.
IMPORT = re.compile(r"\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?"
                    r"import\s+(?:(?:struct|enum|class|protocol|func|typealias|var|let)\s+)?([A-Za-z_][A-Za-z_0-9]*)")
# A product whose module has another name.
MODULE_OF_PRODUCT = {}
# Declared to be built first (an executable a test runs), not imported.
BUILD_ONLY = {("EndToEndTests", "otter")}

package = json.loads(subprocess.run(["swift", "package", "dump-package"], capture_output=True, text=True, check=True).stdout)
problems = []
for target in package["targets"]:
    name = target["name"]
    if target["type"] == "plugin":
        continue
    path = target.get("path") or ("Tests/" if target["type"] == "test" else "Sources/") + name
    declared = set()
    for dependency in target["dependencies"]:
        for kind in ("byName", "product", "target"):
            if kind in dependency:
                declared.add(MODULE_OF_PRODUCT.get(dependency[kind][0], dependency[kind][0]))
    imported = set()
    for file in glob.glob(path + "/**/*.swift", recursive=True):
        with open(file) as source:
            for line in source:
                match = IMPORT.match(line)
                if match:
                    imported.add(match.group(1))
    for module in sorted(imported - declared - TOOLCHAIN - {name}):
        problems.append(f"{name} imports {module} without declaring it")
    for module in sorted(declared - imported):
        if (name, module) not in BUILD_ONLY:
            problems.append(f"{name} declares {module} but never imports it")
for problem in problems:
    print("check-imports: " + problem)
sys.exit(1 if problems else 0)
