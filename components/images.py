"""Content-addressed image tags: the same build context, Dockerfile, platform and build args give the same
tag, known at preview. Shared by the ECR builds (AWS) and the local Docker builds."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

# Names skipped when hashing a build context (never part of what the image should depend on).
IGNORED_NAMES = frozenset({".git", "__pycache__", "node_modules"})


def context_digest(context: str | os.PathLike[str], *, salt: Sequence[str] = ()) -> str:
    """sha256 (hex) over the relative path, executable bit and bytes of every file under ``context``.

    Directories and files named ``.git``, ``__pycache__`` or ``node_modules`` are skipped; symlinks are
    hashed by their target (not followed). ``salt`` (e.g. Dockerfile path, platform, build args) is mixed
    in first so that the same files built differently get a different digest.
    """
    root = Path(context)
    if not root.is_dir():
        raise ValueError(f"build context {str(context)!r} is not a directory")
    digest = hashlib.sha256()
    for part in salt:
        digest.update(b"salt\0" + part.encode() + b"\0")
    entries: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        kept = []
        for d in sorted(dirnames):
            if d in IGNORED_NAMES:
                continue
            if (here / d).is_symlink():  # os.walk does not descend into it: hash it as a link
                entries.append(((here / d).relative_to(root).as_posix(), here / d))
            else:
                kept.append(d)
        dirnames[:] = kept
        entries.extend(
            ((here / f).relative_to(root).as_posix(), here / f) for f in filenames if f not in IGNORED_NAMES
        )
    for rel, path in sorted(entries):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            kind, data = b"l", os.readlink(path).encode()
        else:
            kind, data = (b"x" if mode & 0o111 else b"f"), path.read_bytes()
        digest.update(kind + b"\0" + rel.encode() + b"\0" + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def image_tag(
    context: str | os.PathLike[str],
    *,
    dockerfile: str = "Dockerfile",
    platform: str = "linux/arm64",
    build_args: Mapping[str, str] | None = None,
) -> str:
    """The immutable image tag of a build: ``sha-`` + the first 12 hex digits of its content digest.

    ``dockerfile`` is relative to the context; one outside it (``../``) adds its own bytes to the digest.
    """
    salt = [f"dockerfile={dockerfile}", f"platform={platform}"]
    salt += [f"arg:{k}={v}" for k, v in sorted((build_args or {}).items())]
    if dockerfile_outside(context, dockerfile):
        content = (Path(context) / dockerfile).read_bytes()
        salt.append(f"dockerfile-sha256={hashlib.sha256(content).hexdigest()}")
    return f"sha-{context_digest(context, salt=salt)[:12]}"


def dockerfile_outside(context: str | os.PathLike[str], dockerfile: str) -> bool:
    """Whether ``dockerfile`` (relative to ``context``) lies outside the context directory."""
    root = Path(os.path.normpath(context))
    return not Path(os.path.normpath(root / dockerfile)).is_relative_to(root)


def empty_context_warnings(contexts: Mapping[str, str | None]) -> list[str]:
    """One warning per role whose build context is an empty directory (a submodule not checked out)."""
    return [
        f"{role}.source.context {context} is empty, so its image cannot build: a submodule not checked "
        "out? run `git submodule update --init`"
        for role, context in contexts.items()
        if context is not None and Path(context).is_dir() and not any(Path(context).iterdir())
    ]
