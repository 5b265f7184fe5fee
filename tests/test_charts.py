"""lossapp.ui.charts: a chart's title and legend as HTML around its plot, in the plot's colours."""

from lossapp.ui import charts, templates


def test_series_take_vega_lites_default_colours_in_order_of_first_appearance() -> None:
    colors = charts.series_colors(["b", "a", "b", "c"])
    assert colors == {"b": "#4c78a8", "a": "#f58518", "c": "#e45756"}
    many = charts.series_colors([f"s{i}" for i in range(12)])
    assert many["s10"] == many["s0"] and len(set(many.values())) == len(charts.PALETTE)


def test_the_legend_lists_each_series_with_its_colour_and_escapes_names() -> None:
    html = charts.legend_html({"<b>γ = 2</b>": "#4c78a8", "y = 1": "#f58518"}, "focusing γ")
    assert html.index("focusing γ") < html.index("&lt;b&gt;γ = 2&lt;/b&gt;") < html.index("y = 1")
    assert html.count('class="la-chart-key"') == 2 and "background: #f58518" in html
    assert "la-chart-legend-title" not in charts.legend_html({"L1": "#4c78a8"})  # no title: none drawn


def test_the_title_is_escaped_and_the_css_read_once() -> None:
    assert charts.title_html("a < b") == '<div class="la-chart-title">a &lt; b</div>'
    assert templates.css("charts.css") is charts.CHART_CSS and ".la-chart-legend {" in charts.CHART_CSS


def test_series_drawn_as_pins_have_a_pin_in_the_legend() -> None:
    html = charts.legend_html({"y = 1": "#2563eb", "your data, y = 1": "#1d4ed8"}, "target y", pins={"your data, y = 1"})
    line, pin = html.split('<span class="la-chart-key">')[1:]
    assert 'class="la-chart-line"' in line and "y = 1" in line
    assert 'class="la-chart-pin" style="background: #1d4ed8"' in pin and "your data, y = 1" in pin
    assert ".la-chart-key i.la-chart-pin {" in charts.CHART_CSS
