"""More real SMTP servers for the email tests (``start_smtp`` and ``smtp_server`` are shared,
in tests/conftest.py).

Variants: one that records what it receives, one that requires AUTH, one that answers 451 to
RCPT a few times before accepting, one that answers 550, and one that requires STARTTLS with a
self-signed certificate made by the ``openssl`` command.
"""

import shutil
import subprocess
from collections.abc import Callable

import pytest

from tests.support.smtp_servers import (
    BusyRecipientHandler,
    Certificate,
    RejectingHandler,
    SmtpServer,
    authenticator,
)


@pytest.fixture
def auth_smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp(auth_required=True, auth_require_tls=False, authenticator=authenticator)


@pytest.fixture
def busy_smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp(BusyRecipientHandler(refusals=1))


@pytest.fixture
def rejecting_smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp(RejectingHandler())


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


@pytest.fixture
def tls_smtp_server(start_smtp: Callable[..., SmtpServer], certificate: Certificate) -> SmtpServer:
    """Requires STARTTLS before anything else, and AUTH over TLS."""
    return start_smtp(
        tls_context=certificate.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
