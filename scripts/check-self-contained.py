#!/usr/bin/env python3
"""The repository stands alone: no test, script, source or package manifest refers to a file outside the checkout.

A user's clone has nothing beside it, so a test that reads a folder next to the checkout (or walks up the directory
tree looking for one) passes on a developer's machine and in CI and fails for everyone else. This lists, and exits 1 on:
- a relative path in a string literal (`"../x"`, `"./../x"`, `"Tests/../../x"`) that leaves the checkout when resolved
  from the file's folder or from the checkout's root (where `swift test` and the scripts run);
- a walk up the directory tree: a variable set to its own parent (`dir = dir.deletingLastPathComponent()`,
  `d = os.path.dirname(d)`, `p = p.parent`), or more `deletingLastPathComponent()` / `dirname` steps after
  `#filePath` / `__file__` / `$0` (counting `..` components) than the file is deep;
- a name of something that lives only beside the checkout on a developer's machine (BESIDE_CHECKOUT below: the
  team's reference folder with its Jaeger fixtures and OTLP protos, the workspace root, the tool library).
Files are the ones git tracks (or, without git, every file) under Sources, Tests, scripts, Fuzz, Benchmarks, Examples
and .ci, Package.swift, and README.md and the DocC articles (`.md`) for the names only. A line that must name such a path on purpose (a test that
checks an escape is refused) says so with the comment `self-contained: deliberate`.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AREAS = ("Sources/", "Tests/", "scripts/", "Fuzz/", "Benchmarks/", "Examples/", ".ci/", "Package.swift")
NAMES_ONLY = ("README.md",)
# Folder names written in pieces, so that this file does not itself name a path outside the checkout.
BESIDE_CHECKOUT = ["shar" + "ed/", "jaeger-" + "fixtures", "otlp-" + "proto(?![\\w-])", "\\.lib" + "rary/", "/wo" + "rk/"]
OUTSIDE_NAMES = re.compile(r"(?<![\w.-])(?:" + "|".join(BESIDE_CHECKOUT) + ")")
RELATIVE = re.compile(r"""["']((?:\./)?(?:[\w.-]+/)*\.\.(?:/[^"'\s]*)?)["']""")
WALK_UP = re.compile(
    r"""\b(\w+)\s*=\s*(?:\1\.deletingLastPathComponent\(\)|os\.path\.dirname\(\1\)|\1\.parent\b|"?\$\(dirname\s+"?\$\1)""")
ANCHORED = re.compile(r"""#filePath|__file__|\$\{?BASH_SOURCE|\$0""")
STEP_UP = re.compile(r"""deletingLastPathComponent\(\)|os\.path\.dirname\(|\bdirname\b|\.parent\b|parents\[(\d+)\]""")
PARENT_COMPONENT = re.compile(r"""(?<![\w.])\.\.(?=[/"')]|$)""")
DELIBERATE = "self-contained: deliberate"
THIS_SCRIPT = "scripts/check-self-contained.py"


def tracked_files():
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return listed.splitlines()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, subfolders, names in os.walk(ROOT):
            subfolders[:] = [s for s in subfolders if not s.startswith(".build") and s not in (".git", ".venv")]
            files += [os.path.relpath(os.path.join(folder, name), ROOT) for name in names]
        return files


def leaves_checkout(path, relative):
    # A manifest's paths are relative to its own folder; everything else may run from the root as well.
    starts = [os.path.join(ROOT, os.path.dirname(path))] + ([] if path.endswith("Package.swift") else [ROOT])
    for start in starts:
        if os.path.relpath(os.path.normpath(os.path.join(start, relative)), ROOT).startswith(".."):
            return True
    return False


def statement(lines, index):
    """The line and the continuation lines after it (Swift method chains start with '.')."""
    text = lines[index]
    for following in lines[index + 1:index + 6]:
        if not following.strip().startswith("."):
            break
        text += following.strip()
    return text


problems = []
for path in tracked_files():
    # Documentation (README, DocC articles) shows code that lives in a user's package, beside their own clone of Otter:
    # its relative paths are the user's, so only the names of things beside our checkout are checked there.
    names_only = path in NAMES_ONLY or path.endswith(".md")
    if not (path.startswith(AREAS) or names_only) or path == THIS_SCRIPT:
        continue
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        continue  # binary files (screenshots, fuzz corpora) hold no paths
    depth = path.count("/")
    for number, line in enumerate(lines, 1):
        if DELIBERATE in line:
            continue
        for match in OUTSIDE_NAMES.finditer(line):
            problems.append(f"{path}:{number}: names '{match.group(0)}', which is not in the repository")
        if names_only:
            continue
        for match in RELATIVE.finditer(line):
            if leaves_checkout(path, match.group(1)):
                problems.append(f"{path}:{number}: '{match.group(1)}' leaves the checkout")
        if WALK_UP.search(line):
            problems.append(f"{path}:{number}: walks up the directory tree (it can leave the checkout)")
        if ANCHORED.search(line):
            text = statement(lines, number - 1)
            steps = sum(int(m.group(1)) + 1 if m.group(1) else 1 for m in STEP_UP.finditer(text))
            steps += len(PARENT_COMPONENT.findall(text))
            if steps > depth + 1:
                problems.append(f"{path}:{number}: {steps} steps up from a file {depth} folders deep leave the checkout")

if problems:
    print("files that refer to paths outside the repository (a clone has nothing beside it):")
    print("\n".join(problems))
    sys.exit(1)
print("self-contained: no tracked file refers to a path outside the checkout")
