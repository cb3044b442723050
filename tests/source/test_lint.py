"""The linters that pre-commit runs, run here too so that CI enforces them (offline, no changes made)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

BIN = Path(sys.executable).parent


def run(*cmd: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_python_passes_ruff() -> None:
    proc = run(BIN / "ruff", "check", "--no-cache", "src", "tools", "tests", "book/_ext")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run(BIN / "ruff", "format", "--no-cache", "--check", "tools", "tests", "book/_ext")
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\nRun `make format`."


def test_machinery_keeps_its_layout() -> None:
    """Issue #20: Sphinx extensions only in book/_ext/ (tools/ holds command-line tools and the
    libraries they share), and one reader of the toc and one MyST parser set-up, in tools/sources.py."""
    tools = sorted((ROOT / "tools").glob("*.py"))
    extension_code = ("def setup(app", "SphinxDirective", "app.connect(", "app.add_directive(")
    for path in tools:
        text = path.read_text(encoding="utf-8")
        found = [marker for marker in extension_code if marker in text]
        assert not found, f"{path.relative_to(ROOT)} has Sphinx extension code ({found}): move it to book/_ext/"
    readers = ("parse_toc_data", "parse_toc_yaml", "create_md_parser", "MdParserConfig(")
    for path in [*tools, *(ROOT / "book" / "_ext").glob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        if path.name in ("sources.py", "test_lint.py"):
            continue
        text = path.read_text(encoding="utf-8")
        found = [reader for reader in readers if reader in text]
        assert not found, (
            f"{path.relative_to(ROOT)} reads the toc or sets up MyST itself ({found}): use tools/sources.py"
        )


def test_workaround_list_names_code_and_tests_that_exist() -> None:
    """CONTRIBUTING.md's list of workarounds names functions in book/_ext/ and tests that exist."""
    import re

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("### Where the book works around other packages", 1)[1].split("\n## ", 1)[0]
    ext = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "book" / "_ext").glob("*.py")}
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    names = re.findall(rf"`({'|'.join(ext)})\.(\w+)`", section)
    assert len(names) >= 6, "the workaround list names no book/_ext function"
    for module, name in names:
        assert re.search(rf"^(def|class) {name}\b", ext.get(module, ""), re.M), f"CONTRIBUTING.md: no {module}.{name}"
    for path in re.findall(r"`((?:book|tests)/[\w/.-]+)", section):
        assert (ROOT / path).exists(), f"CONTRIBUTING.md names {path}, which does not exist"
    for test in re.findall(r"\b(test_\w+)`", section):
        assert f"def {test}(" in tests, f"CONTRIBUTING.md names the test {test}, which does not exist"


def test_docs_name_make_targets_that_exist() -> None:
    """Every `make X` that the docs, the tools' messages, the Makefile's help and the workflows name is a target."""
    import re

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = {t for line in re.findall(r"^([\w-]+(?: [\w-]+)*):(?!=)", makefile, re.M) for t in line.split()}
    command = re.compile(r"(?<![\w./-])make ((?:[a-z][\w-]*(?: |$))+)")  # `make book wheel EDITION=...`
    docs = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "notebooks/README.md", "_config.yml")]
    code = [*(ROOT / "tools").iterdir(), *(ROOT / "book" / "_ext").glob("*.py"), *(ROOT / "tests").rglob("*.py")]
    named = [
        (path, words)
        for path in docs + code
        if path.is_file()
        for span in re.findall(r"`([^`\n]+)`", path.read_text(encoding="utf-8"))
        for words in command.findall(span)
    ]
    comments = "\n".join(line for line in makefile.splitlines() if line.startswith("#"))
    named += [(ROOT / "Makefile", target) for target in re.findall(r"\bmake ([a-z][\w-]*)", comments)]
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        runs = re.findall(r"run: (make .*)$", workflow.read_text(encoding="utf-8"), re.M)
        named += [(workflow, words) for run_line in runs for words in command.findall(run_line)]
    assert len(named) > 50
    wrong = {f"{path.relative_to(ROOT)}: make {t}" for path, words in named for t in words.split() if t not in targets}
    assert not wrong, "these name no target of the Makefile:\n" + "\n".join(sorted(wrong))


def test_every_wait_in_the_tests_has_a_timeout() -> None:
    """A test that waits on a process or thread gives a time limit, so that a hang fails instead of stalling CI."""
    import ast

    waits = {"run", "check_output", "call", "check_call", "wait", "communicate", "join"}
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in waits):
                continue
            owner = node.func.value
            if node.func.attr in ("run", "check_output", "call", "check_call"):
                limited = not (isinstance(owner, ast.Name) and owner.id == "subprocess")
            else:  # proc.wait(), proc.communicate(), thread.join(); "".join(parts) has an argument
                limited = bool(node.args)
            if not limited and not any(k.arg == "timeout" for k in node.keywords):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}(...) has no timeout")
    assert not found, "\n".join(found)


def test_chapter_code_cells_pass_ruff() -> None:
    proc = run(sys.executable, ROOT / "tools" / "lint_cells.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cell_lint_reports_chapter_lines(tmp_path: Path) -> None:
    chapter = tmp_path / "book" / "part" / "chapter.md"
    chapter.parent.mkdir(parents=True)
    chapter.write_text(
        textwrap.dedent(
            """\
        # Chapter

        ```{code-cell} ipython3
        ---
        tags: [hide-input]
        ---
        %matplotlib inline
        x = 1
        ```

        Prose with `code` in it.

        ```{code-cell} ipython3
        :tags: [raises-exception]
        print(x + undefined_name)
        ```
        """
        )
    )
    proc = run(sys.executable, ROOT / "tools" / "lint_cells.py", "--root", tmp_path, chapter)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "book/part/chapter.md:15: F821 Undefined name `undefined_name` — fix the code cell"
    ]


def test_cell_lint_names_what_it_cannot_lint(tmp_path: Path) -> None:
    """A missing file, a folder, a file outside --root or a --root with no sources: an error (exit 2), not a
    traceback, nor "0 files pass"."""
    (tmp_path / "elsewhere.md").write_text("# Elsewhere\n")
    tool = ROOT / "tools" / "lint_cells.py"
    cases = [
        ((tool, "book/no-such.md"), "book/no-such.md: no such Markdown file"),
        ((tool, "book"), "book: no such Markdown file"),
        ((tool, tmp_path / "elsewhere.md"), f"{tmp_path / 'elsewhere.md'}: not under --root {ROOT}"),
        ((tool, "--root", tmp_path), f"--root {tmp_path}: no .md files under book/ or notebooks/"),
        ((tool, "--fit"), "--fit rewrites the chapters it is given: name them"),
    ]
    for args, message in cases:
        proc = run(sys.executable, *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.returncode, proc.stderr[-2000:])


def test_prose_and_code_are_spelled_right() -> None:
    proc = run(BIN / "codespell")
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\nFix the word, or add it to .codespell-words.txt"


def test_workflows_pass_actionlint_and_zizmor() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"pr.yml", "preview.yml", "deploy.yml", "weekly.yml"}
    proc = run(BIN / "actionlint", *workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run(BIN / "zizmor", "--offline", "--no-progress", *workflows)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_linters_catch_an_unsafe_workflow(tmp_path: Path) -> None:
    """The two linters really run: a fork-unsafe workflow with a typo fails both."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        textwrap.dedent(
            """\
        on: pull_request_target
        jobs:
          build:
            runs-on: ubuntu-24.04
            steps:
              - uses: actions/checkout@v4
                with:
                  ref: ${{ github.event.pull_request.head.sha }}
              - run: echo "${{ github.event.pull_request.title }}"
              - run: make test
                if: ${{ github.event.pull_request.mergd }}
        """
        )
    )
    assert run(BIN / "actionlint", bad).returncode != 0
    proc = run(BIN / "zizmor", "--offline", "--no-progress", bad)
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout and "dangerous-triggers" in proc.stdout


def test_pull_requests_run_read_only_and_share_the_make_targets() -> None:
    workflows = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / ".github" / "workflows").glob("*.yml")}
    pr = workflows["pr"]
    assert pr["permissions"] == {"contents": "read"}
    assert "secrets" not in (ROOT / ".github" / "workflows" / "pr.yml").read_text().replace("no secrets", "")
    preview = (ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert "actions/checkout" not in preview, "the preview job must never check out the pull request"
    for name in ("pr", "deploy", "weekly"):
        runs = [s.get("run", "") for job in workflows[name]["jobs"].values() for s in job.get("steps", [])]
        assert any(r.startswith("make ") for r in runs), f"{name}.yml does not call the make targets"


def test_pre_commit_hooks_are_local_and_installed() -> None:
    proc = run(BIN / "pre-commit", "validate-config", ".pre-commit-config.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    for repo in config["repos"]:
        assert repo["repo"] == "local", "hooks must not be fetched from the network"
        for hook in repo["hooks"]:
            assert hook["language"] == "system"
            entry = hook["entry"].split()
            tool = entry[0] if entry[0] != "bash" else entry[2].strip("'")
            assert (ROOT / tool).exists() or tool.startswith(".venv/"), hook["id"]
            if tool.startswith(".venv/bin/"):
                assert (BIN / Path(tool).name).exists(), f"{hook['id']}: {tool} is not installed"


@pytest.mark.parametrize("name", ["LICENSE", "LICENSE-CONTENT", "CITATION.cff"])
def test_terms_of_use_are_present(name: str) -> None:
    assert (ROOT / name).is_file()


def test_citation_file_is_valid() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license"):
        assert cff.get(key), key
    assert cff["license"] == ["CC-BY-SA-4.0", "MIT"]
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert "Attribution-ShareAlike 4.0 International" in content and "Section 1 -- Definitions." in content
    assert "MIT License" in (ROOT / "LICENSE").read_text()
