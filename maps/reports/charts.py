"""PNG charts for reports (matplotlib, Agg backend): a per-grid choropleth of the completion
rate and a weekly chart of appeals by category."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from matplotlib import font_manager
from shapely.geometry import shape

from layers.analytics.filters import AppealFilter
from layers.analytics.heat import grid_stats
from layers.analytics.reportdata import (
    report_level,
    subtree_grids,
    weekly_by_category,
)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC")


def _fonts() -> None:
    # Grid and category names are Chinese: use a CJK font when the machine has one.
    installed = {f.name for f in font_manager.fontManager.ttflist}
    chosen = [name for name in CJK_FONTS if name in installed]
    plt.rcParams["font.sans-serif"] = [*chosen, "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False


def completion_choropleth(
    filt: AppealFilter, out: Path, root: str | None = None, level: int | None = None
) -> Path:
    """Per-grid completion rate (closed / received) of the filtered appeals."""
    _fonts()
    level = level or report_level(root)
    grids = subtree_grids(root, level)
    stats = {s["code"]: s for s in grid_stats(filt, level, root)}
    frame = gpd.GeoDataFrame(
        {
            "code": [g["code"] for g in grids],
            "name": [g["name"] for g in grids],
            "rate": [
                (stats.get(g["code"], {}).get("completion_rate") or float("nan")) * 100
                for g in grids
            ],
        },
        geometry=[shape(g["geometry"]) for g in grids],
        crs=4326,
    )
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    if len(frame):
        frame.plot(
            column="rate",
            ax=ax,
            cmap="RdYlGn",
            vmin=min(90.0, frame["rate"].min()),
            vmax=100,
            legend=True,
            edgecolor="#555",
            linewidth=0.4,
            missing_kwds={"color": "#eeeeee", "label": _("no appeals")},
            legend_kwds={"label": _("completion rate (%)"), "shrink": 0.6},
        )
        if len(frame) <= 60:
            for row in frame.itertuples():
                point = row.geometry.representative_point()
                ax.annotate(row.name, (point.x, point.y), ha="center", fontsize=7)
    ax.set_title(_("Completion rate by grid"))
    ax.set_axis_off()
    return _save(fig, out)


def weekly_by_category_chart(filt: AppealFilter, out: Path, top: int = 8) -> Path:
    """Appeals per week, stacked by the `top` most frequent categories (the rest as "other")."""
    _fonts()
    rows = weekly_by_category(filt)
    zh = (get_language() or "").startswith("zh")
    frame = pd.DataFrame(rows, columns=["week", "code", "name_zh", "name_en", "n"])
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    if len(frame):
        frame["label"] = frame["code"] + " " + (frame["name_zh"] if zh else frame["name_en"])
        totals = frame.groupby("label")["n"].sum().sort_values(ascending=False)
        keep = set(totals.index[:top])
        frame.loc[~frame["label"].isin(keep), "label"] = _("other")
        table = frame.pivot_table(
            index="week", columns="label", values="n", aggfunc="sum", fill_value=0
        )
        order = [c for c in totals.index if c in table.columns]
        order += [c for c in table.columns if c not in order]
        table = table[order]
        table.index = pd.to_datetime(table.index)
        ax.stackplot(table.index, table.T.values, labels=table.columns)
        ax.legend(loc="upper left", fontsize=8, ncols=2)
    ax.set_title(_("Appeals per week by category"))
    ax.set_ylabel(_("appeals"))
    ax.grid(alpha=0.3)
    return _save(fig, out)


def _save(fig, out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
