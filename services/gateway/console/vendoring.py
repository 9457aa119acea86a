"""Writes the console's chart library, `static/vendor/vega.js`: Vega, Vega-Lite and
vega-embed (with vega-interpreter, so charts run under a CSP without 'unsafe-eval') as
`vl-convert-python` bundles them, its versions in the first line. The file is committed:
the gateway serves it as it is, and nothing is built or fetched when the stack starts.

    .venv/bin/pip install 'inds[vendor]' && .venv/bin/python -m services.gateway.console.vendoring

The licences of what the bundle holds are in `static/vendor/LICENSES.txt`.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

BUNDLE = Path(__file__).parent / "static" / "vendor" / "vega.js"
# The Vega-Lite the console's specifications are written for.
VEGA_LITE = "6.4"
# What the console's charts.js reads once the bundle has run.
GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


def header(vl_convert: object) -> str:
    return (
        f"/*! Vega {vl_convert.get_vega_version()}, Vega-Lite {VEGA_LITE}, "  # type: ignore[attr-defined]
        f"vega-embed {vl_convert.get_vega_embed_version()}: "  # type: ignore[attr-defined]
        f"vl-convert-python {version('vl-convert-python')} javascript_bundle(). "
        "BSD-3-Clause and others: see LICENSES.txt beside this file. */\n"
    )


def write() -> Path:
    import vl_convert  # the `vendor` extra: only who refreshes the bundle needs it

    BUNDLE.write_text(header(vl_convert) + vl_convert.javascript_bundle(GLOBALS, VEGA_LITE))
    return BUNDLE


if __name__ == "__main__":
    print(f"wrote {write()}")
