"""jinja2 templates of the HTML report (shipped as the package ``faro_audit.templates``)."""
