"""lossapp.ui.templates: the UI's Jinja2 templates (autoescaped, lines joined) and their CSS."""

from lossapp.ui import check_tab, templates


def test_values_are_escaped_and_lines_joined() -> None:
    html = templates.render_template("grade_summary.html", summary=None, empty="<script>x</script> & more")
    assert html == '<div class="la-chk-empty">&lt;script&gt;x&lt;/script&gt; &amp; more</div>'


def test_every_template_compiles_and_the_css_is_read_once() -> None:
    names = sorted(p.name for p in templates.FOLDER.glob("*.html"))
    assert names == ["chart_legend.html", "chart_title.html", "check_card.html", "check_elements.html",
                     "check_foot.html", "check_matches.html", "check_number_line.html", "data_table.html",
                     "grade_summary.html", "lab_verdict.html"]
    for name in names:
        assert templates.ENV.get_template(name) is not None
    assert templates.css("check_tab.css") is check_tab.CARD_CSS
    assert ".la-chk-card {" in check_tab.CARD_CSS and ".la-grade-chip {" in check_tab.CARD_CSS


def test_an_element_row_escapes_the_claim() -> None:
    card = {"elements": {"title": "Each element", "heads": ["element"], "rows": [
        {"index": "0", "claimed": "<b>0.5</b>", "value": "0.5", "verdict": "exact", "style": "", "mark": "✓",
         "word": "exact", "explanation": "x & y"}]}}
    html = templates.render_template("check_elements.html", card=card)
    assert "&lt;b&gt;0.5&lt;/b&gt;" in html and "x &amp; y" in html and 'data-verdict="exact"' in html


def test_a_data_table_escapes_its_cells_and_marks_long_ones() -> None:
    from lossapp.ui.common import CSS, LONG_LINE, data_table_html

    html = data_table_html(["<b>", [("e", ""), ("x−m", "sup")]], [["<i>x</i>", [1.5, -0.25]], ["a " * LONG_LINE, 2.0]],
                           "la-t")
    assert "<th>&lt;b&gt;</th>" in html and "<th>e<sup>x−m</sup></th>" in html
    assert "<td><div>&lt;i&gt;x&lt;/i&gt;</div></td>" in html and "<td><div>1.5</div><div>-0.25</div></td>" in html
    assert '<td class="la-wrap">' in html and 'data-rows="2"' in html and 'id="la-t-wrap"' in html
    assert ".la-tablewrap" in CSS  # layout.css is part of the app's CSS
