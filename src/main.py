"""`make run`: read the settings and serve the process their roles describe (`src.app.serve`)."""

from src.app.serve import serve
from src.common.settings import load_settings


def main() -> None:
    serve(load_settings())


if __name__ == "__main__":
    main()
