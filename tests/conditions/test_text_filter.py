"""The plain-text convention for page text, and that it never lets HTML through."""

from django.template import Context, Template
from django.utils.safestring import SafeString

from conditions.templatetags.conditions_tags import plain_text


def test_blank_lines_make_paragraphs():
    assert plain_text("One line\nsame paragraph.\n\nSecond.") == (
        "<p>One line same paragraph.</p>\n<p>Second.</p>"
    )


def test_dash_lines_make_a_bullet_list_between_paragraphs():
    text = "Symptoms:\n- pain\n- numbness\nAfter the list."
    assert plain_text(text) == (
        "<p>Symptoms:</p>\n<ul><li>pain</li><li>numbness</li></ul>\n<p>After the list.</p>"
    )


def test_windows_line_endings_and_extra_blank_lines():
    assert plain_text("\r\n\r\nA\r\n\r\n\r\n- b\r\n") == "<p>A</p>\n<ul><li>b</li></ul>"


def test_everything_is_escaped():
    html = plain_text('<script>alert("x")</script>\n- <b onclick="y">x</b> & more')
    assert isinstance(html, SafeString)
    assert "<script>" not in html and "<b " not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b onclick=&quot;y&quot;&gt;x&lt;/b&gt; &amp; more" in html


def test_text_already_marked_safe_is_still_escaped():
    # Even if some code marked database text safe, the filter escapes it again.
    assert "<i>" not in plain_text(SafeString("<i>x</i>"))


def test_empty_and_none():
    assert plain_text("") == ""
    assert plain_text(None) == ""


def test_filter_in_a_template_escapes_once():
    rendered = Template("{% load conditions_tags %}{{ text|plain_text }}").render(
        Context({"text": "Tom & Jerry"})
    )
    assert rendered == "<p>Tom &amp; Jerry</p>"


def test_end_sentence_adds_one_full_stop_only():
    from conditions.templatetags.conditions_tags import end_sentence

    assert end_sentence("Finucane LM, et al.") == "Finucane LM, et al."
    assert end_sentence("Saguil A") == "Saguil A."
    assert end_sentence("Is it safe?") == "Is it safe?"
    assert end_sentence("") == ""
