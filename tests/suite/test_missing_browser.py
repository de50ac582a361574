"""Without chromium: the suite installs it only when browser tests are selected, else says why it cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TEST = """
import pytest

@pytest.mark.browser
def test_needs_a_browser():
    pass

def test_plain():
    pass
"""


@pytest.fixture
def no_apt(tmp_path: Path) -> dict[str, str]:
    """An environment like a non-Debian machine: no chromium, no apt-get on PATH (bash and id only)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=str(bin_dir), TIERWISE_TEST_CHROMIUM=str(tmp_path / "no-chromium"))
    return env


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite laid out like this repository: tests/conftest.py and .ci/ensure-chromium."""
    (pytester.path / ".ci").mkdir()
    shutil.copy(REPO_ROOT / ".ci" / "ensure-chromium", pytester.path / ".ci" / "ensure-chromium")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "conftest.py").write_text((REPO_ROOT / "tests" / "conftest.py").read_text())
    (pytester.path / "tests" / "test_pages.py").write_text(BROWSER_TEST)
    (pytester.path / "pytest.ini").write_text("[pytest]\nmarkers =\n    browser: drives chromium\n")
    return pytester


def _run(suite: pytest.Pytester, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "pytester", *args, "tests"],
        cwd=suite.path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_ensure_chromium_says_in_one_line_why_it_cannot_install(no_apt: dict[str, str]) -> None:
    done = subprocess.run(["bash", str(REPO_ROOT / ".ci" / "ensure-chromium")], env=no_apt,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        f"chromium is missing and cannot be installed here: no apt-get (not Debian); install it at "
        f"{no_apt['TIERWISE_TEST_CHROMIUM']}"
    ]


def test_without_a_browser_the_browser_tests_are_skipped_with_the_reason(suite: pytest.Pytester,
                                                                          no_apt: dict[str, str]) -> None:
    done = _run(suite, no_apt)
    assert done.returncode == 0, done.stdout
    assert "no apt-get (not Debian)" in done.stdout
    assert "SKIPPED [1] tests/test_pages.py:4: chromium is missing and cannot be installed here" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].strip("= ").startswith("1 passed, 1 skipped in ")


def test_under_ci_a_missing_browser_fails(suite: pytest.Pytester, no_apt: dict[str, str]) -> None:
    done = _run(suite, {**no_apt, "CI": "true"})
    assert done.returncode == 1, done.stdout
    assert "ERROR tests/test_pages.py::test_needs_a_browser - Failed: chromium is missing" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].strip("= ").startswith("1 passed, 1 error in ")


def test_deselected_browser_tests_need_no_browser(suite: pytest.Pytester, no_apt: dict[str, str]) -> None:
    done = _run(suite, {**no_apt, "CI": "true"}, "-m", "not browser")
    assert done.returncode == 0, done.stdout
    assert "chromium" not in done.stdout
