"""Small bar charts drawn on the server as inline SVG: no JavaScript, no CDN, readable without CSS."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD, LABEL_H = 560, 180, 8, 30


def bar_chart(
    points: list[tuple[str, float]], *, title: str, colour: str = "#417690", suffix: str = ""
) -> SafeString:
    """Vertical bars, one per (label, value), each with its value on top and label under it."""
    n = max(1, len(points))
    top = max([float(v or 0) for _, v in points] + [0]) or 1.0
    slot = (WIDTH - 2 * PAD) / n
    bar_w = max(4.0, slot * 0.7)
    plot_h = HEIGHT - LABEL_H - 2 * PAD - 14
    parts = []
    for i, (label, value) in enumerate(points):
        v = float(value or 0)
        h = plot_h * v / top
        x = PAD + i * slot + (slot - bar_w) / 2
        y = PAD + 14 + plot_h - h
        shown = f"{value}{suffix}" if value is not None else "—"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{escape(colour)}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="11">{escape(shown)}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - PAD - 8:.1f}" text-anchor="middle" font-size="10">'
            f"{escape(label)}</text>"
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="100%" style="max-width:{}px">{}</svg>',
        title,
        WIDTH,
        HEIGHT,
        WIDTH,
        mark_safe("".join(parts)),  # every label and value above is escaped
    )


def horizontal_bars(points: list[tuple[str, int]], *, title: str, colour: str = "#ba2121") -> SafeString:
    """One labelled horizontal bar per (label, count): for long labels such as cancellation reasons."""
    row_h, label_w = 22, 220
    height = max(1, len(points)) * row_h + 2 * PAD
    top = max([v for _, v in points] + [0]) or 1
    parts = []
    for i, (label, value) in enumerate(points):
        y = PAD + i * row_h
        w = (WIDTH - label_w - 50) * value / top
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="11">{escape(short)}'
            f"<title>{escape(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{escape(colour)}"></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="11">{value}</text>'
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="100%" style="max-width:{}px">{}</svg>',
        title,
        WIDTH,
        height,
        WIDTH,
        mark_safe("".join(parts)),  # every label and value above is escaped
    )
