"""The HTML audit report: one self-contained page rendered from an :class:`AuditResult`.

The page has inline CSS and inline SVG only: no scripts, no external fonts, images or links
that load anything, and a Content-Security-Policy that forbids them anyway. Every value is
escaped by Jinja2 (autoescape on for every template, ``select_autoescape(default=True)``);
the only pre-built markup is the figures (see :mod:`faro_audit.report.figures`).

Templates live in the repository's top-level ``templates/`` directory, shipped in the wheel as
the package ``faro_audit.templates``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from faro_audit.audit.result import AuditResult
from faro_audit.errors import FaroUsageError

#: The entry template.
TEMPLATE = "report.html.j2"


def _template_dir() -> Path | Any:
    """Where the templates are: the source checkout's ``templates/``, else the installed package.

    Returns a :class:`~pathlib.Path`, or an :mod:`importlib.resources` ``Traversable`` when the
    package is not on a file system (a zip).
    """
    here = Path(__file__).resolve().parents[2] / "templates"
    if (here / TEMPLATE).is_file():
        return here
    from importlib import resources

    try:
        res = resources.files("faro_audit.templates")
    except (ModuleNotFoundError, TypeError) as err:
        raise FaroUsageError(
            f"report templates not found: neither {here} nor the package faro_audit.templates "
            f"exists ({err}); reinstall faro-audit"
        ) from err
    if isinstance(res, Path) or hasattr(res, "__fspath__"):
        return Path(res)  # type: ignore[arg-type]
    return res


def _loader() -> jinja2.BaseLoader:
    where = _template_dir()
    if isinstance(where, Path):
        return jinja2.FileSystemLoader(str(where))

    def load(name: str) -> str | None:
        item = where.joinpath(name)
        return item.read_text(encoding="utf-8") if item.is_file() else None

    return jinja2.FunctionLoader(load)


def finalize_value(value: Any) -> Any:
    """Jinja2 ``finalize``: every ``{{ … }}`` output loses its control characters.

    Strings (escaped afterwards by autoescape) and pre-built markup (figures; their markup
    stays markup) go through :func:`faro_audit.report.fmt.clean_text` with ``keep_cr=False``:
    C0 controls other than tab and newline, DEL and C1 controls become U+FFFD, so no raw
    control character from the data reaches report.html. Other values pass unchanged.
    """
    from markupsafe import Markup

    from faro_audit.report.fmt import clean_text

    if isinstance(value, Markup):
        return Markup(clean_text(str(value), keep_cr=False))
    if isinstance(value, str):
        return clean_text(value, keep_cr=False)
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment: autoescape for every template, strict undefined, and every
    output stripped of control characters (:func:`finalize_value`)."""
    return jinja2.Environment(
        loader=_loader(),
        finalize=finalize_value,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def preload_templates() -> int:
    """Compile every report template into :func:`environment`'s cache; return how many.

    Compiling the templates costs about 0.15 s, paid by the first :func:`render_html` of a
    process. This is pure Python with no effect on the output, so a caller that waits on native
    code (scoring a model) can pay it on a background thread instead: the cache is shared and
    Jinja2's cache is thread-safe.
    """
    env = environment()
    try:
        names = env.list_templates(filter_func=lambda n: n.endswith((".j2", ".css")))
    except TypeError:  # a loader that cannot list (templates in a zip): the entry only
        names = [TEMPLATE]
    for name in names:
        env.get_template(name)
    return len(names)


def render_html(result: AuditResult, *, title: str | None = None) -> str:
    """Render the audit report page.

    Parameters
    ----------
    result
        The audit result (or one read back with :meth:`AuditResult.from_dict`).
    title
        Page heading; default "Reward-model fairness audit".

    Returns
    -------
    str
        The HTML document. Deterministic: the same result gives the same bytes.
    """
    from faro_audit.report.context import build_context

    ctx = build_context(result, title=title)
    return environment().get_template(TEMPLATE).render(**ctx)
