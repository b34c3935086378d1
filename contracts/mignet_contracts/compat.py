"""Released event schemas stay compatible: additive changes pass, anything else needs a new version.

Every event schema that was published is kept under ``contracts/released/events/``.
Within a version an event may only gain optional top-level fields (events are open to
fields they do not know). Removing, renaming or retyping a field, making one required,
changing a nested object or an enum's values breaks consumers of that version: such a
change is published as a new version (``...v2``), a new event class with an upcaster
from the old one (:mod:`mignet_contracts.catalog`), while the old version's schema stays.

``python -m mignet_contracts.compat`` checks (the test suite runs it);
``--release`` records the current schemas of every event version after the check passed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mignet_contracts.schemas import render

RELEASED_DIR = Path(__file__).resolve().parents[1] / "released" / "events"
#: Words about a value, not its shape: changing them breaks nobody.
_PROSE = {"description", "title", "examples", "default"}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/...`` reference replaced by its definition, prose left out."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return _inline(defs[ref.removeprefix("#/$defs/")], defs)
    return {k: _inline(v, defs) for k, v in schema.items() if k not in _PROSE}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def breaking_changes(released: dict, current: dict) -> list[str]:
    """What in ``current`` would refuse, or misread, events a consumer of ``released`` understands."""
    problems = []
    old_defs, new_defs = released.get("$defs", {}), current.get("$defs", {})
    old_fields, new_fields = released.get("properties", {}), current.get("properties", {})
    for name, schema in old_fields.items():
        if name not in new_fields:
            problems.append(f"field '{name}' was removed or renamed")
            continue
        before, after = _inline(schema, old_defs), _inline(new_fields[name], new_defs)
        if before != after:
            problems.append(f"field '{name}' changed from {_short(before)} to {_short(after)}")
    for name in sorted(set(current.get("required", [])) - set(released.get("required", []))):
        if name in old_fields:
            problems.append(f"field '{name}' became required")
        else:
            problems.append(f"new field '{name}' is required (a field added within a version must be optional)")
    if current.get("additionalProperties") is False and released.get("additionalProperties") is not False:
        problems.append("the event no longer accepts fields it does not know")
    return problems


def next_version(schema_name: str) -> str:
    base, _, version = schema_name.rpartition(".v")
    return f"{base}.v{int(version) + 1}"


def check(released_dir: Path = RELEASED_DIR) -> list[str]:
    """Every problem with the current event schemas against the released ones, as sentences."""
    current = {Path(p).name: json.loads(text) for p, text in render().items() if p.startswith("events/")}
    problems = []
    for path in sorted(released_dir.glob("*.json")):
        name = path.stem
        if path.name not in current:
            problems.append(f"{name}: released, but no event class has this version any more; keep it")
            continue
        for problem in breaking_changes(json.loads(path.read_text()), current[path.name]):
            problems.append(
                f"{name}: {problem}. That breaks consumers of {name}: publish the change as "
                f"{next_version(name)} (a new event class, with an upcaster from the old one) and keep {name} as it is"
            )
    for file in sorted(set(current) - {p.name for p in released_dir.glob("*.json")}):
        problems.append(f"{Path(file).stem}: not released yet: run `python -m mignet_contracts.compat --release`")
    return problems


def release(released_dir: Path = RELEASED_DIR) -> list[str]:
    """Record the current schema of every event version (only when :func:`check` finds no break)."""
    released_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in render().items():
        if path.startswith("events/"):
            target = released_dir / Path(path).name
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
                written.append(target.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="store_true", help="record the current event schemas as released")
    args = parser.parse_args(argv)
    breaks = [p for p in check() if "not released yet" not in p]
    if breaks:
        print("breaking changes to released event schemas:\n  " + "\n  ".join(breaks), file=sys.stderr)
        return 1
    if args.release:
        written = release()
        print(f"released {len(written)} event schemas under {RELEASED_DIR}")
        return 0
    unreleased = check()
    if unreleased:
        print("\n".join(unreleased), file=sys.stderr)
        return 1
    print(f"{len(list(RELEASED_DIR.glob('*.json')))} released event schemas, all compatible")
    return 0


if __name__ == "__main__":
    sys.exit(main())
