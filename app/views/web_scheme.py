"""Pages for QtWebEngine served from memory under ``mimamori://``, and nothing from outside.

- ``register_schemes()`` must run before the QApplication exists (``prepare_qt`` calls it).
- ``MemorySchemeHandler`` answers ``mimamori://app/<path>`` from pages held in memory (the
  map page is never written to disk: it would be plaintext) and from the vendored Leaflet
  files; ``setHtml`` is not used because it silently fails above ~1–2 MB (TECH_NOTES.md).
- ``LocalOnlyInterceptor`` blocks every request that is not ``mimamori:``, ``qrc:`` or
  ``data:``, so even a page that named a remote URL could not reach the network.
- ``local_profile()`` is one off-the-record profile (no disk cache, no cookies) with both.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QFile, QIODevice
from PySide6.QtWebEngineCore import (
    QWebEngineProfile, QWebEngineUrlRequestInterceptor, QWebEngineUrlRequestJob, QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from app.resource_files import resource_path

SCHEME = b"mimamori"
HOST = "app"
ALLOWED_SCHEMES = {"mimamori", "qrc", "data"}
_MIME = {".js": b"text/javascript", ".css": b"text/css", ".png": b"image/png", ".html": b"text/html"}


def register_schemes() -> None:
    """Declare ``mimamori:`` to QtWebEngine; only possible before the QApplication exists."""
    if QWebEngineUrlScheme.schemeByName(SCHEME).name() == SCHEME:
        return
    if QCoreApplication.instance() is not None:
        return  # too late; pages will not load (the caller forgot prepare_qt)
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme | QWebEngineUrlScheme.Flag.LocalScheme
                    | QWebEngineUrlScheme.Flag.LocalAccessAllowed)
    QWebEngineUrlScheme.registerScheme(scheme)


class MemorySchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves pages put with ``put(path, bytes)``, Leaflet files and qwebchannel.js."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pages: dict[str, tuple[bytes, bytes]] = {}
        self.served: list[str] = []

    def put(self, path: str, data: bytes, mime: bytes = b"text/html") -> str:
        """Hold ``data`` in memory at ``path``; returns its URL."""
        self._pages[path] = (data, mime)
        return f"{SCHEME.decode()}://{HOST}{path}"

    def drop(self, path: str) -> None:
        self._pages.pop(path, None)

    def _static(self, path: str) -> tuple[bytes, bytes] | None:
        if path.endswith("/qwebchannel.js"):
            f = QFile(":/qtwebchannel/qwebchannel.js")
            if f.open(QIODevice.OpenModeFlag.ReadOnly):
                return bytes(f.readAll().data()), b"text/javascript"
            return None
        name = path.rsplit("/leaflet/", 1)[-1] if "/leaflet/" in path else None
        if name is None or ".." in name:
            return None
        file = resource_path("web", "leaflet", *name.split("/"))
        if not file.is_file():
            return None
        return file.read_bytes(), _MIME.get(file.suffix, b"application/octet-stream")

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 - Qt override
        path = job.requestUrl().path()
        found = self._pages.get(path) or self._static(path)
        if found is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        self.served.append(path)
        buf = QBuffer(job)
        buf.setData(QByteArray(found[0]))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(found[1], buf)


class LocalOnlyInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks everything that is not served locally; remembers what it blocked (for tests)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.blocked: list[str] = []

    def interceptRequest(self, info) -> None:  # noqa: N802 - Qt override
        url = info.requestUrl()
        if url.scheme() not in ALLOWED_SCHEMES:
            self.blocked.append(url.toString())
            info.block(True)


_profile: QWebEngineProfile | None = None
_handler: MemorySchemeHandler | None = None
_interceptor: LocalOnlyInterceptor | None = None


def local_profile() -> QWebEngineProfile:
    """The shared off-the-record profile with the memory handler and the interceptor."""
    global _profile, _handler, _interceptor
    if _profile is None:
        app = QCoreApplication.instance()
        _profile = QWebEngineProfile(app)  # no storage name = off the record: nothing on disk
        _profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        _profile.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
        _handler = MemorySchemeHandler(_profile)
        _interceptor = LocalOnlyInterceptor(_profile)
        _profile.installUrlSchemeHandler(SCHEME, _handler)
        _profile.setUrlRequestInterceptor(_interceptor)
    return _profile


def memory_handler() -> MemorySchemeHandler:
    local_profile()
    return _handler


def request_interceptor() -> LocalOnlyInterceptor:
    local_profile()
    return _interceptor
