"""The stewards' dashboard: one page of governance figures, inside Airflow and as a report.

``queries`` reads aggregates from the marts (never a personal value), ``model``
turns them into a view model, ``charts`` draws server-side SVG and ``render``
writes the HTML. ``app`` serves it behind Airflow's authentication (the plugin
in ``plugins/steward_airflow_plugin.py`` mounts it), ``report`` writes the same
page as a static file, and ``snapshot`` stores the day's figures so that phone
quality and the catalogue can be trended over nights.
"""
