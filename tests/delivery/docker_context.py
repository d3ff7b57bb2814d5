"""Read the Dockerfile and .dockerignore the way ``docker build`` does, without a Docker engine.

:func:`stages` splits the parsed Dockerfile (``dockerfile-parse``) into build stages with
their instructions, ``ARG`` defaults substituted in ``FROM``. :func:`context_files` lists the
files a build context would contain under .dockerignore's rules (Go ``filepath.Match``
patterns plus ``**``, ``!`` exceptions, last match wins, a pattern matching a folder covers
everything below it), so tests can check COPY sources and build the wheel from exactly the
files the image gets.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

__all__ = ["ROOT", "Instruction", "Stage", "context_files", "copy_context", "ignore_rules", "is_ignored", "stages"]

ROOT = Path(__file__).resolve().parents[2]
_NEVER = frozenset({".git", ".venv", ".venv-image-test", ".sandbox", ".mypy_cache", ".ruff_cache"})


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD/HEALTHCHECK CMD, else None."""
        text = self.value.removeprefix("CMD").strip() if self.name == "HEALTHCHECK" else self.value
        start = text.find("[")
        if start < 0:
            return None
        parsed = json.loads(text[start:])
        return [str(part) for part in parsed]

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """``--flag=value`` options and the remaining words (COPY, ADD)."""
        flags: dict[str, str] = {}
        args: list[str] = []
        for word in shlex.split(self.value):
            if word.startswith("--") and not args:
                key, _, val = word[2:].partition("=")
                flags[key] = val
            else:
                args.append(word)
        return flags, args


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for inst in self.all("ENV"):
            for word in shlex.split(inst.value):
                key, sep, val = word.partition("=")
                if sep:
                    out[key] = val
        return out


def stages(dockerfile: Path = ROOT / "Dockerfile") -> list[Stage]:
    parser = DockerfileParser(path=str(dockerfile))
    args: dict[str, str] = {}
    out: list[Stage] = []
    for item in parser.structure:
        name, value = item["instruction"], item["value"]
        if name == "COMMENT":
            continue
        if name == "ARG" and not out:
            key, _, default = value.partition("=")
            args[key.strip()] = default.strip()
            continue
        if name == "FROM":
            words = value.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            out.append(Stage(image=image, name=alias))
            continue
        if not out:
            raise ValueError(f"{name} before the first FROM")
        out[-1].instructions.append(Instruction(name, value))
    return out


def ignore_rules(path: Path = ROOT / ".dockerignore") -> list[tuple[bool, re.Pattern[str]]]:
    """(is_exception, regex) per .dockerignore line, in order."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negate, re.compile(regex)))
    return rules


def is_ignored(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``relative`` (a posix path in the context) is left out of the build context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negate, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def context_files(root: Path = ROOT) -> list[str]:
    """Every file of ``root`` that the build context would contain (VCS and virtualenv folders pruned early)."""
    rules = ignore_rules(root / ".dockerignore")
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        dirs[:] = sorted(d for d in dirs if not (base == "." and d in _NEVER))
        for name in files:
            relative = name if base == "." else f"{base}/{name}"
            if not is_ignored(relative, rules):
                out.append(relative)
    return sorted(out)


def copy_context(destination: Path, root: Path = ROOT) -> list[str]:
    """Copy the build context into ``destination``; return the files copied."""
    files = context_files(root)
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return files
