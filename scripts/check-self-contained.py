#!/usr/bin/env python3
"""The repository stands alone: no test, script, source or package manifest refers to a file outside the checkout.

A user's clone has nothing beside it, so a test that reads `../shared/...` (or walks up the directory tree looking for
a folder) passes on a developer's machine and in CI and fails for everyone else. This lists, and exits 1 on:
- a relative path in a string literal (`"../x"`) that, resolved from the file's folder, leaves the checkout;
- a name of something that lives only beside the checkout on a developer's machine (`shared/`, its `jaeger-fixtures`,
  `otlp-proto`, `seeds` and `reference` folders, `/work/`, the tool library `.library`).
Files are the ones git tracks under Sources, Tests, scripts, Fuzz, Benchmarks, Examples and .ci, and Package.swift.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AREAS = ("Sources/", "Tests/", "scripts/", "Fuzz/", "Benchmarks/", "Examples/", ".ci/", "Package.swift")
OUTSIDE_NAMES = re.compile(r"""(?<![\w.-])(?:shared/|jaeger-fixtures|otlp-proto(?![\w-])|\.library/)|(?:^|[\s"'(])/work/""")
RELATIVE = re.compile(r"""["']((?:\.\./)+[^"'\s]*|\.\.)["']""")
THIS_SCRIPT = "scripts/check-self-contained.py"

files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
problems = []
for path in files:
    if not path.startswith(AREAS) or path == THIS_SCRIPT:
        continue
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        continue  # binary files (screenshots, fuzz corpora) hold no paths
    for number, line in enumerate(lines, 1):
        for match in OUTSIDE_NAMES.finditer(line):
            problems.append(f"{path}:{number}: names '{match.group(0)}', which is not in the repository")
        for match in RELATIVE.finditer(line):
            resolved = os.path.normpath(os.path.join(ROOT, os.path.dirname(path), match.group(1)))
            if os.path.relpath(resolved, ROOT).startswith(".."):
                problems.append(f"{path}:{number}: '{match.group(1)}' resolves outside the checkout")

if problems:
    print("files that refer to paths outside the repository (a clone has nothing beside it):")
    print("\n".join(problems))
    sys.exit(1)
print(f"self-contained: no tracked file under {', '.join(a.rstrip('/') for a in AREAS)} refers outside the checkout")
