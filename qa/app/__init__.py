"""The Streamlit app: page scripts (search, recommendations, judgements, documents), the widgets
they share (components), the source view of a passage (source) and the style; ``app.py`` at the
top of the repository is the frame that runs them."""

from pathlib import Path

PAGES = Path(__file__).parent
STYLE = PAGES / "style.css"
