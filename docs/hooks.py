"""mkdocs hooks (mkdocs.yml ``hooks``): generated pages, so they cannot drift.

``<!-- config-reference -->`` becomes the config reference (``qgan config reference``, from
the pydantic config models) and ``<!-- cli-help -->`` every ``qgan`` verb's ``--help``.
"""

from __future__ import annotations

import argparse
import os


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public accessor for sub-commands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_help() -> str:
    """Markdown: ``qgan --help`` and each verb's (and sub-verb's) ``--help``."""
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal width
    from qgan.cli import build_parser

    parser = build_parser()
    blocks = [("qgan", parser)]
    for name, verb in _subparsers(parser).items():
        blocks.append((f"qgan {name}", verb))
        blocks += [(f"qgan {name} {s}", p) for s, p in _subparsers(verb).items()]
    out = []
    for title, p in blocks:
        out += [f"## `{title}`", "", "```text", p.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- config-reference -->" in markdown:
        from qgan.cli.config import reference

        markdown = markdown.replace("<!-- config-reference -->", reference())
    if "<!-- cli-help -->" in markdown:
        markdown = markdown.replace("<!-- cli-help -->", cli_help())
    return markdown
