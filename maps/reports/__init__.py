"""Map reports people open without the system: one self-contained folium HTML file per report
(html.py) and matplotlib PNG charts (charts.py)."""
