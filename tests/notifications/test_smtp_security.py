"""The SMTP adapter against a server that demands STARTTLS and a login, as a city's relay would."""
import dataclasses
import datetime
import ipaddress
import shutil
import smtplib
import ssl
import tempfile
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scripts import smtp_sink
from services.notifications import mail, settings as notification_settings
from services.notifications.rendering import Renderer
from tests.conftest import SLOT
from tests.fixtures import wait_for
from tests.notifications.conftest import listening, text_of

pytestmark = pytest.mark.integration

PORT = 18000 + 100 * SLOT + 51
LINKS = {"unsubscribe": "http://x/unsubscribe?token=t", "manage": "http://x/my-data?token=t",
         "confirm": "http://x/confirm?token=c"}


def self_signed(folder):
    """A certificate for 127.0.0.1 (PEM files), which the client trusts through SMTP_CA_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


@pytest.fixture(scope="module")
def secure_server():
    folder = Path(tempfile.mkdtemp(prefix="smartcity-tls-"))
    cert, key = self_signed(folder)
    process = smtp_sink.start(folder / "mail", PORT, tls=(cert, key), login=("relay-user", "relay-secret"))
    wait_for(lambda: listening(PORT), timeout=15, message="the TLS sink to listen")
    yield folder, cert
    process.terminate()
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def mailer(cert, **changes):
    relay = {"smtp_port": PORT, "smtp_security": "starttls", "smtp_ca_file": str(cert), "smtp_user": "relay-user",
             "smtp_password": "relay-secret"}
    return mail.Mailer(dataclasses.replace(notification_settings.load(), **{**relay, **changes}))


def a_mail(settings):
    return mail.compose(settings, "olga@example.org", Renderer().confirmation("de", LINKS), LINKS, uuid.uuid4())


def test_mail_goes_over_starttls_with_a_login(secure_server):
    folder, cert = secure_server
    sender = mailer(cert)
    with sender.connection() as smtp:
        mail.send(smtp, a_mail(sender.settings))
    wait_for(lambda: smtp_sink.mails(folder / "mail"), message="the mail")
    [path] = smtp_sink.mails(folder / "mail")
    assert LINKS["confirm"] in text_of(BytesParser(policy=policy.default).parsebytes(path.read_bytes()))


def test_a_wrong_password_or_an_untrusted_certificate_sends_nothing(secure_server):
    folder, cert = secure_server
    with pytest.raises(smtplib.SMTPAuthenticationError):
        with mailer(cert, smtp_password="wrong").connection():
            pass
    with pytest.raises(ssl.SSLCertVerificationError):
        with mailer(cert, smtp_ca_file=None).connection():
            pass
    with pytest.raises(smtplib.SMTPException):  # the server insists on STARTTLS first
        with mailer(cert, smtp_security="none").connection():
            pass
