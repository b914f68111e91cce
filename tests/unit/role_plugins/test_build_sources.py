"""The app image's build sources are compared by content (roles/app_server/filter_plugins/
build_sources.py): a second clone of the same commit, whose files all have new mtimes, must not
rebuild or report a change."""

import os
import shutil
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from role_plugin_loader import load_plugin

sources_digest = load_plugin("app_server", "filter", "build_sources").sources_digest


def _tree(root: Path) -> list[dict]:
    """What community.general.filetree gives for `root`."""
    entries = []
    for path in sorted(root.rglob("*")):
        entries.append(
            {
                "path": str(path.relative_to(root)),
                "src": str(path),
                "state": "directory" if path.is_dir() else "file",
                "mtime": path.stat().st_mtime,
                "size": path.stat().st_size,
            }
        )
    return entries


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    source = tmp_path / "one"
    (source / "tradia").mkdir(parents=True)
    (source / "Dockerfile").write_text("FROM base\n")
    (source / "tradia" / "main.py").write_text("print('hi')\n")
    (source / "tradia" / "logo.png").write_bytes(bytes(range(256)))
    return source


def test_a_second_clone_has_the_same_digest(clone: Path, tmp_path: Path):
    other = tmp_path / "two"
    shutil.copytree(clone, other)
    for path in other.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # another checkout, another time
    assert sources_digest(_tree(other)) == sources_digest(_tree(clone))


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "tradia" / "main.py").write_text("print('ho')\n"),
        lambda root: (root / "tradia" / "main.py").rename(root / "tradia" / "app.py"),
        lambda root: (root / "tradia" / "new.py").write_text(""),
    ],
    ids=["content", "rename", "new file"],
)
def test_any_change_of_the_sources_changes_the_digest(clone: Path, change):
    before = sources_digest(_tree(clone))
    change(clone)
    assert sources_digest(_tree(clone)) != before


def test_an_unreadable_source_is_a_clear_error(clone: Path):
    entries = _tree(clone)
    (clone / "Dockerfile").unlink()
    with pytest.raises(AnsibleFilterError, match="Dockerfile"):
        sources_digest(entries)
