"""Reading, validating and writing YAML run configs: shared by every workload's pydantic
config (:mod:`qgan.gan.config`, :mod:`qgan.classify.config`), which binds its model.

Relative file paths inside a config file (the dotted keys a workload names, e.g.
``data.path``) resolve against the config file's folder, so a config runs from any working
directory; paths given as overrides (the command line) resolve against the working
directory. A resolved config is written with absolute paths, so it reads back the same
from a run directory. Imports neither TensorFlow nor Strawberry
Fields: a bad config is reported before either is loaded.

The configs shipped with qgan are installed with the package (``qgan/configs/*.yaml``; a
clone's ``configs/`` links there): where a config argument names no existing file, a shipped
config of that name is used (``bimodal`` or ``bimodal.yaml``), see :func:`resolve_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError


def config_error(err: ValidationError) -> ValueError:
    """One line naming the first offending key of a pydantic ``ValidationError``."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        key, sep, rest = msg.partition(": ")
        if sep and " " not in key:  # validator messages start with the key they are about
            loc = f"{loc}.{key}" if loc and not key.startswith(loc) else key
            msg = rest
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg}, got {first['input']!r}"
    return ValueError(f"config key {loc or '<root>'}: {msg}")


def validate(model: type[BaseModel], data):
    """``model`` validated from a config mapping; a one-line ``ValueError`` naming the key."""
    if not isinstance(data, dict):
        raise ValueError(f"config must be a mapping of sections, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise config_error(err) from None


SHIPPED = Path(__file__).resolve().parent / "configs"  # the configs installed with qgan


def shipped_configs() -> list[Path]:
    """The shipped config files (``qgan/configs/*.yaml``), sorted by name."""
    return sorted(SHIPPED.glob("*.yaml"))


def resolve_path(path) -> Path:
    """The config file ``path`` names: the file itself when it exists, else the shipped
    config of that name (``bimodal`` or ``bimodal.yaml``, a bare name without folders);
    a one-line ``ValueError`` when neither exists."""
    path = Path(path)
    if path.is_file():
        return path
    if path.parent == Path(".") and path.name:
        name = path.name if path.suffix == ".yaml" else f"{path.name}.yaml"
        shipped = SHIPPED / name
        if shipped.is_file():
            return shipped
        names = ", ".join(p.stem for p in shipped_configs())
        raise ValueError(
            f"config file {str(path)!r} does not exist and is not a shipped config ({names})"
        )
    raise ValueError(f"config file {str(path)!r} does not exist")


#: the largest config file read (bytes): a config is a page of keys, not a data set
MAX_CONFIG_BYTES = 1_000_000
#: the deepest nesting of mappings and lists (a config needs 4 levels)
MAX_DEPTH = 64
#: the most nodes a document may hold once its aliases are expanded ("billion laughs")
MAX_EXPANDED_NODES = 100_000
#: the tags a config may write explicitly (YAML's core schema); any other tag is refused
STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)


class _Refused(yaml.YAMLError):
    """A document :class:`SafeConfigLoader` refuses; ``mark`` is where (or None)."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.message, self.mark = message, mark


class SafeConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` for untrusted config files: refuses explicit tags outside
    :data:`STANDARD_TAGS` (``!!python/object``, ``!custom``), nesting deeper than
    :data:`MAX_DEPTH` (checked while composing, so 5,000 nested lists are one line, not a
    ``RecursionError``), and documents whose aliases would expand to more than
    :data:`MAX_EXPANDED_NODES` nodes, or that refer to themselves.

    Aliases are kept (``&defaults`` / ``*defaults`` is a legitimate way to share a block)
    but bounded: PyYAML shares one Python object per anchor, so the bomb is harmless while
    loading and explodes later, when the config is validated, copied or written out; the
    expanded size is counted on the composed node graph (each distinct node once,
    memoised), so the check costs the size of the file, not of the expansion.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and tag not in STANDARD_TAGS:
            raise _Refused(
                f"tag {tag.replace('tag:yaml.org,2002:', '!!')} refused", event.start_mark
            )
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def compose_document(self):
        node = super().compose_document()
        _expanded_size(node)
        return node


def _expanded_size(root) -> int:
    """The number of nodes of ``root`` with every alias expanded, counted on the node graph
    (memoised per node); raises :class:`_Refused` above :data:`MAX_EXPANDED_NODES` or on a
    node that contains itself."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:  # iterative post-order: no recursion on deep or wide graphs
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_EXPANDED_NODES:
                raise _Refused(
                    f"aliases expand to more than {MAX_EXPANDED_NODES:,} values", node.start_mark
                )
            continue
        if key in open_:
            raise _Refused("an alias refers to the node that contains it", node.start_mark)
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _where(mark) -> str:
    """`` at line L, column C`` (1-based) of a YAML mark; empty without one."""
    return "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"


def _decode(raw: bytes, path) -> str:
    """``raw`` as UTF-8 text; a one-line ``ValueError`` naming the file, the first bad
    byte and its line and column (1-based) otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ValueError(
            f"config file {str(path)!r}: not UTF-8 text "
            f"(byte 0x{raw[err.start]:02x} at line {line}, column {column})"
        ) from None


def parse_yaml(text: str, path):
    """The document of the YAML ``text`` read with :class:`SafeConfigLoader`; any problem
    is a one-line ``ValueError`` naming ``path`` with line and column."""
    loader = SafeConfigLoader(text)
    try:
        return loader.get_single_data()
    except _Refused as err:
        raise ValueError(f"config file {str(path)!r}: {err.message}{_where(err.mark)}") from None
    except yaml.MarkedYAMLError as err:
        what = " ".join(str(p) for p in (err.context, err.problem) if p)
        mark = err.problem_mark or err.context_mark
        what = " ".join(what.split()) or "syntax error"
        raise ValueError(
            f"config file {str(path)!r} is not valid YAML{_where(mark)}: {what}"
        ) from None
    except yaml.YAMLError as err:
        what = " ".join(str(err).split())
        raise ValueError(f"config file {str(path)!r} is not valid YAML: {what}") from None
    finally:
        loader.dispose()


def read_yaml(path, overrides: dict | None = None) -> dict:
    """The mapping of a YAML config file with ``overrides`` (dotted key -> value) applied;
    ``path`` is a file or a shipped config's name (:func:`resolve_path`).

    The file is read safely (:class:`SafeConfigLoader`): at most :data:`MAX_CONFIG_BYTES`,
    UTF-8, no tags, bounded nesting and aliases. An empty file (or only comments) is an
    error, not the defaults. Every refusal is one ``ValueError`` line naming the file."""
    path = resolve_path(path)
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ValueError(
            f"config file {str(path)!r}: {size:,} bytes, more than a config's {MAX_CONFIG_BYTES:,}"
        )
    data = parse_yaml(_decode(path.read_bytes(), path), path)
    if data is None:
        raise ValueError(
            f"config file {str(path)!r} is empty: give a mapping of sections "
            "(start from a shipped config, see qgan config list)"
        )
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of sections")
    set_keys(data, overrides or {})
    return data


def set_keys(data: dict, values: dict) -> None:
    """Set dotted keys (``train.steps``) of a config mapping in place, creating sections."""
    for key, value in values.items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value


def absolute_paths(data: dict, keys, base) -> None:
    """Make the relative path strings at the dotted ``keys`` of ``data`` absolute against
    the folder ``base``, in place; absent keys, ``None`` and non-strings (left for
    validation to report) are kept."""
    for key in keys:
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(leaf), str):
            node[leaf] = os.path.abspath(os.path.join(base, os.path.expanduser(node[leaf])))


def load_config(model: type[BaseModel], path, overrides: dict | None = None, *, paths=()):
    """``model`` validated from the YAML file ``path`` (or a shipped config's name, see
    :func:`resolve_path`) with ``overrides`` (dotted key -> value) applied; a one-line
    ``ValueError`` naming the key on any problem.

    ``paths``: the dotted keys holding file paths. Relative ones in the file are made
    absolute against the config file's folder; ``overrides`` (the command line) are kept
    as given, relative to the working directory.
    """
    path = resolve_path(path)
    data = read_yaml(path)
    absolute_paths(data, paths, os.path.dirname(os.path.abspath(path)))
    set_keys(data, overrides or {})
    return validate(model, data)


def dump_config(cfg: BaseModel, *, paths=()) -> str:
    """The resolved config (every default filled in) as YAML; relative file paths at the
    dotted keys ``paths`` are written absolute (against the working directory), so the
    file reads back the same wherever it is saved."""
    data = cfg.model_dump(mode="json")
    absolute_paths(data, paths, Path.cwd())
    return yaml.safe_dump(data, sort_keys=False)
