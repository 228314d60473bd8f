"""Find human text in Django templates that is not marked for translation.

Used by the catalogue tests. A template is tokenised with Django's own lexer;
text inside {% translate %} / {% blocktranslate %} and comments is dropped,
every other tag or variable becomes a placeholder, and what is left is read as
HTML: any words in text nodes, or in attributes people read (aria-label, alt,
title, placeholder), were written in English and would reach a Spanish page
untranslated.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.template import Engine
from django.template.base import Lexer, TokenType, Variable
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

#: Stands in for a template tag or variable: never human text itself. A space,
#: so that a tag inside an HTML tag (``<h1{% if x %} lang="en"{% endif %}>``)
#: still leaves well-formed HTML.
PLACEHOLDER = " "
BLOCK_TRANSLATE_TAGS = {"blocktranslate", "blocktrans"}
BLOCK_TRANSLATE_ENDS = {"endblocktranslate", "endblocktrans"}
#: Attributes whose values are read or heard by people.
HUMAN_ATTRIBUTES = {"aria-label", "alt", "title", "placeholder", "aria-description"}
#: Words that are the same in every language (identifiers printed before links).
NOT_WORDS = {"DOI", "PMID"}
WORD = re.compile(r"[^\W\d_]{2,}")


def _words(text: str) -> list[str]:
    text = re.sub(r"&[a-zA-Z]+;|&#\d+;", " ", text)
    return [word for word in WORD.findall(text) if word not in NOT_WORDS]


class _HumanText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip_depth += 1
        for name, value in attrs:
            if name in HUMAN_ATTRIBUTES and value and _words(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data):
        if not self._skip_depth and _words(data):
            self.found.append(" ".join(data.split()))


def _template_text_outside_translation(source: str) -> str:
    """The template's literal text, with every tag/variable replaced by a placeholder.

    Text inside translation tags and comments is left out altogether.
    """
    parts: list[str] = []
    skipping_until: set[str] | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if skipping_until is not None:
                if name in skipping_until:
                    skipping_until = None
                continue
            if name in BLOCK_TRANSLATE_TAGS:
                skipping_until = BLOCK_TRANSLATE_ENDS
            elif name == "comment":
                skipping_until = {"endcomment"}
            elif name == "verbatim":
                skipping_until = {"endverbatim"}
            parts.append(PLACEHOLDER)
            continue
        if skipping_until is not None:
            continue
        if token.token_type == TokenType.VAR:
            parts.append(PLACEHOLDER)
        else:
            parts.append(token.contents)
    return "".join(parts)


def untranslated_text(source: str) -> list[str]:
    """Human text in a template source that is outside translation tags."""
    parser = _HumanText()
    parser.feed(_template_text_outside_translation(source))
    parser.close()
    return parser.found


def translated_messages(template_name: str, engine: Engine) -> set[tuple[str | None, str]]:
    """``(context, msgid)`` of every literal the template asks the catalogue for.

    The same keys Django looks up when it renders the template, so a key not in
    the catalogue is text that stays English on a Spanish page.
    """
    template = engine.get_template(template_name)
    nodelist = template.nodelist
    keys: set[tuple[str | None, str]] = set()
    for node in nodelist.get_nodes_by_type(TranslateNode):
        variable = node.filter_expression.var
        literal = getattr(variable, "literal", None)
        if isinstance(literal, str) and not node.noop:
            context = _literal(node.message_context)
            keys.add((context, str(literal)))
    for node in nodelist.get_nodes_by_type(BlockTranslateNode):
        context = _literal(node.message_context)
        singular, _vars = node.render_token_list(node.singular)
        keys.add((context, singular))
    return keys


def _literal(filter_expression) -> str | None:
    """The text of a quoted template argument (``context "..."``)."""
    if filter_expression is None:
        return None
    value = filter_expression.var
    return str(value.literal if isinstance(value, Variable) else value)


def template_files(root: Path, *, exclude: tuple[str, ...] = ("admin",)) -> list[Path]:
    """Every .html file under ``root``, except those under the excluded folders."""
    return sorted(
        path for path in root.rglob("*.html") if path.relative_to(root).parts[0] not in exclude
    )
