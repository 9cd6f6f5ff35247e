"""Creating the QApplication: identity, translations (Japanese by default), theme."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QStandardPaths, QTranslator
from PySide6.QtWidgets import QApplication

from app.resource_files import resource_path
from app.views.theme import apply_theme

_translators: list[QTranslator] = []

# The name users know the program by; the main window's title ends with it (once).
APP_DISPLAY_NAME = "見守り"


def install_translations(app: QCoreApplication, language: str | None = None) -> str:
    """Load Qt's own and Mimamori's translations. Japanese unless MIMAMORI_LANG=en."""
    language = language or os.environ.get("MIMAMORI_LANG", "ja")
    for tr in _translators:
        app.removeTranslator(tr)
    _translators.clear()
    if language == "en":
        return language
    QLocale.setDefault(QLocale(QLocale.Language.Japanese, QLocale.Country.Japan))
    qt_tr = QTranslator()
    if qt_tr.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_tr)
        _translators.append(qt_tr)
    own = QTranslator()
    if own.load(str(resource_path("i18n", f"mimamori_{language}.qm"))):
        app.installTranslator(own)
        _translators.append(own)
    return language


def prepare_qt() -> None:
    """Everything that must happen before the first QApplication exists (also called by
    the tests' conftest, whose QApplication pytest-qt creates)."""
    # QtWebEngine reads these at start; offline terminals and containers need no GPU/sandbox.
    # Chromium's own log (dbus, GPU) and Qt's uncategorised warnings ("QRhiGles2: Failed to
    # create context", "GPUInfo not initialized", "propagateSizeHints()") are harmless here
    # and would read as failures in a caseworker's terminal: kept out unless MIMAMORI_DEBUG=1.
    # Qt's critical messages and categorised warnings still come through.
    debug = os.environ.get("MIMAMORI_DEBUG", "") not in ("", "0")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS",
                          "--disable-gpu --no-sandbox" + ("" if debug else " --log-level=3"))
    if not debug:
        os.environ.setdefault("QT_LOGGING_RULES", "default.warning=false")
    from PySide6.QtCore import Qt

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    # The map's in-memory page scheme (mimamori://) must be declared before the app exists.
    from app.views.web_scheme import register_schemes

    register_schemes()


def configure_logging() -> Path | None:
    """The application log: a small rotating file in the user's application-data folder.

    A windowed build has no console, so task errors (app/views/worker.py) must land in a
    file to be found at all. What is logged there never carries case data: task names,
    error types and code locations only."""
    logger = logging.getLogger("mimamori")
    if any(isinstance(h, logging.handlers.RotatingFileHandler) for h in logger.handlers):
        return None
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)) / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / "mimamori.log", maxBytes=1_000_000,
                                                       backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    # With a handler here Python's last-resort console output is never used.
    logger.setLevel(logging.INFO)
    return folder / "mimamori.log"


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        prepare_qt()
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName("Mimamori")
    app.setApplicationName("Mimamori")
    app.setApplicationDisplayName(APP_DISPLAY_NAME)
    install_translations(app)
    apply_theme(app)
    configure_logging()
    return app


def settings() -> QSettings:
    return QSettings("Mimamori", "Mimamori")
