"""Rendering the view records: report.md and report.html from their Jinja templates.

HTML autoescapes (responses are untrusted) and carries a Content-Security-Policy
that allows only the one inline filter script, by its hash. report.md has its own
environment that Markdown-escapes every printed value unless the views marked it
safe (``markdown.Md``). Each environment is built once per process (cached), and
compiled templates are cached on disk: compiling is a quarter of a 2,000-case report.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .markdown import md_code, md_finalize, md_verbatim

if TYPE_CHECKING:  # jinja2 is imported lazily: CLI start-up time matters
    import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"

@functools.cache
def _html_env() -> jinja2.Environment:
    """Autoescape for .html templates (responses are untrusted), none for .md."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(jinja2),
    )


def _bytecode_cache(jinja2: Any) -> Any:
    """Compiling the templates is a quarter of a 2,000-case report; cache it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "fourfold" / "jinja"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(path))


@functools.cache
def _script() -> tuple[str, str]:
    """The filter script and its CSP hash: only this inline script may run."""
    js = (TEMPLATES_DIR / "filter.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return js, f"'sha256-{digest}'"


@functools.cache
def _md_env() -> jinja2.Environment:
    """report.md's own environment: every printed value is Markdown-escaped
    (``finalize``) unless the views marked it safe (``Md``), so a field a
    template forgets is escaped all the same."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=False, finalize=md_finalize,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(jinja2),
    )
    env.filters.update(md_code=md_code, verbatim=md_verbatim)
    return env


def warm() -> None:
    """Import and load what ``render`` needs (jinja2, both compiled templates, the
    filter script) ahead of time. ``fourfold run`` calls it from a thread while the
    models answer, when the process mostly waits on the network, so the report at
    the end does not pay for it (~0.05 s, a tenth of a 2,000-case report)."""
    _md_env().get_template("report.md")
    _html_env().get_template("report.html")
    _script()


def render(context: dict[str, Any]) -> tuple[str, str]:
    """(markdown, html) for a context from ``build_context``."""
    from markupsafe import Markup

    env = _html_env()
    markdown = _md_env().get_template("report.md").render(**context)
    js, js_hash = _script()
    html = env.get_template("report.html").render(**context, script=Markup(js), script_hash=js_hash)
    return markdown, html


__all__ = ["TEMPLATES_DIR", "render", "warm"]
