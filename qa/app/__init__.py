"""The Streamlit app: page scripts (search, recommendations, documents), the widgets they share
(components) and the style; ``app.py`` at the top of the repository is the frame that runs them."""

from pathlib import Path

PAGES = Path(__file__).parent
STYLE = PAGES / "style.css"
