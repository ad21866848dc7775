"""The safe template language of campaign messages: placeholders, and nothing that runs.

Templates are parsed by Jinja2's sandbox and then checked node by node: only text,
`{{ placeholder }}` from PLACEHOLDERS (optionally `| default("…")`), and `{% if placeholder %}`
… `{% else %}` … `{% endif %}` pass. Attribute access, calls, loops, macros, includes,
filters other than `default` and unknown placeholders are refused when the template is saved,
with the offending piece named. Rendering then runs in the sandbox anyway.
"""

import html
import re
from functools import lru_cache

import css_inline
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from guanxi.core.errors import FieldError, ValidationFailed

PLACEHOLDERS = {
    "name": gettext_lazy("the customer's name"),
    "surname": gettext_lazy("the family name (张)"),
    "salutation": gettext_lazy("张先生 / 张女士, or the name"),
    "company": gettext_lazy("company"),
    "city": gettext_lazy("city"),
    "owner_name": gettext_lazy("the customer's salesperson"),
}
ALLOWED_FILTERS = {"default"}
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _check_node(node, problems: list[str]) -> None:
    if isinstance(node, nodes.Name):
        if node.ctx != "load" or node.name not in PLACEHOLDERS:
            problems.append(_("unknown placeholder “%s”") % node.name)
        return
    if isinstance(node, nodes.Filter):
        if node.name not in ALLOWED_FILTERS or node.node is None:
            problems.append(_("filter “%s” is not allowed") % node.name)
            return
        _check_node(node.node, problems)
        for arg in node.args:
            if not isinstance(arg, nodes.Const) or not isinstance(arg.value, str):
                problems.append(_("default needs a quoted text"))
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            problems.append(_("default needs a quoted text"))
        return
    if isinstance(node, nodes.Not):
        _check_node(node.node, problems)
        return
    if isinstance(node, nodes.If):
        _check_node(node.test, problems)
        for child in (*node.body, *node.elif_, *node.else_):
            _check_node(child, problems)
        return
    if isinstance(node, nodes.Output):
        for child in node.nodes:
            _check_node(child, problems)
        return
    if isinstance(node, nodes.TemplateData):
        return
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return
    problems.append(_("“%s” is code, not a placeholder") % type(node).__name__)


def template_problems(source: str) -> list[str]:
    """What is wrong with `source`; empty when it is a safe template."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [
            _("syntax error on line %(line)d: %(msg)s") % {"line": exc.lineno, "msg": exc.message}
        ]
    problems: list[str] = []
    for node in tree.body:
        _check_node(node, problems)
    return list(dict.fromkeys(problems))


def validate_template_fields(values: dict[str, str]) -> None:
    """Raise ValidationFailed naming each field with code or unknown placeholders."""
    errors = [
        FieldError(name, "unsafe_template", _("Not allowed: %s.") % "; ".join(problems))
        for name, source in values.items()
        if source and (problems := template_problems(source))
    ]
    if errors:
        raise ValidationFailed(errors)


@lru_cache(maxsize=256)
def _compiled(source: str):
    return _ENV.from_string(source)


def render(source: str, context: dict) -> str:
    return _compiled(source).render(**context) if source else ""


def context_for(customer, owner_name: str = "") -> dict:
    name = customer.name or ""
    surname = name[:1] if name and ord(name[0]) > 0x2E80 else (name.split()[-1] if name else "")
    if customer.kind == "person" and customer.gender in ("m", "f") and surname:
        salutation = surname + ("先生" if customer.gender == "m" else "女士")
    else:
        salutation = name
    return {
        "name": name,
        "surname": surname,
        "salutation": salutation,
        "company": customer.company or "",
        "city": customer.city or "",
        "owner_name": owner_name,
    }


SAMPLE = {
    "name": "张三",
    "surname": "张",
    "salutation": "张先生",
    "company": "华强电子",
    "city": "北京",
    "owner_name": "李娜",
}

_URL = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str, link) -> str:
    """Paragraphs and links of a plain-text message as e-mail HTML; `link(url)` rewrites
    each address (the click-tracking redirect)."""
    parts = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out, last = [], 0
        for match in _URL.finditer(block):
            out.append(html.escape(block[last : match.start()]))
            url = match.group(0).rstrip(".,;:!?)）。，")
            out.append(f'<a href="{html.escape(link(url))}">{html.escape(url)}</a>')
            out.append(html.escape(match.group(0)[len(url) :]))
            last = match.end()
        out.append(html.escape(block[last:]))
        parts.append("<p>" + "".join(out).replace("\n", "<br>") + "</p>")
    return "\n".join(parts)


BODY_MARK = "<!--GX-BODY-->"


@lru_cache(maxsize=32)
def email_shell(language: str) -> tuple[str, str]:
    """The responsive layout with its CSS inlined once per language: (before, after) the body.

    Inlining per message would cost more than the rest of the send; the body's own tags get
    their style from BODY_STYLES instead.
    """
    from django.utils import translation

    with translation.override(language):
        shell = render_to_string("marketing/email.html", {"body_mark": BODY_MARK})
    inlined = css_inline.CSSInliner(keep_style_tags=True).inline(shell)
    before, _mark, after = inlined.partition(BODY_MARK)
    return before, after


BODY_STYLES = {
    "<p>": '<p style="margin:0 0 16px;line-height:1.6;font-size:16px;color:#222">',
    "<a ": '<a style="color:#0b5ed7;text-decoration:underline" ',
}


def style_body(body_html: str) -> str:
    for tag, styled in BODY_STYLES.items():
        body_html = body_html.replace(tag, styled)
    return body_html
