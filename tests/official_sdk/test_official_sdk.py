"""The unmodified official Python SDK (azure-communication-chat) against acs-chat-emulator.

Sends a message (with sender name and metadata), a typing notification and a read receipt,
over HTTP and over HTTPS, then reads the stored events back through /_emulator. Also two of
the service's rules as the SDK meets them: a typing notification without a body is accepted,
and message content over 28 KB is refused with a 400.
"""

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import urllib.parse
import urllib.request

import pytest
from azure.communication.chat import (
    ChatMessageType,
    ChatThreadClient,
    CommunicationTokenCredential,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

EMULATOR = os.environ.get("ACS_EMULATOR_BIN", "target/debug/acs-chat-emulator")
THREAD_IDS = ["19:sdk@thread.v2", "a/b?c#d e"]


def _start(args):
    proc = subprocess.Popen(
        [EMULATOR, "--listen", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on "), line
    return proc, line[len("listening on "):]


def _stop(proc):
    proc.terminate()
    assert proc.wait(timeout=10) == 0


def _write_certs(directory):
    """A CA and a localhost/127.0.0.1 server certificate signed by it, as PEM files."""
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {name: os.path.join(directory, name + ".pem") for name in ("ca", "cert", "key")}
    with open(paths["ca"], "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["cert"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["key"], "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return paths


def _get_json(url, ca_file=None):
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    with opener.open(url, timeout=10) as resp:
        return json.loads(resp.read())


def _segment(thread_id):
    return urllib.parse.quote(thread_id, safe="")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def http_emulator():
    proc, url = _start([])
    yield url, None
    _stop(proc)


@pytest.fixture
def https_emulator(tmp_path, monkeypatch):
    paths = _write_certs(str(tmp_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", paths["ca"])
    proc, url = _start(["--tls-cert", paths["cert"], "--tls-key", paths["key"]])
    yield url, paths["ca"]
    _stop(proc)


def _exercise(url, ca_file, **call_kwargs):
    user = "8:acs:official-sdk-user"
    token = _get_json(url + "/_emulator/token?user=" + _segment(user), ca_file)["token"]
    credential = CommunicationTokenCredential(token)
    for thread_id in THREAD_IDS:
        client = ChatThreadClient(url, credential, thread_id)
        result = client.send_message(
            "hello from the official SDK",
            chat_message_type=ChatMessageType.TEXT,
            sender_display_name="Official SDK",
            metadata={"tag": "sdk", "n": "1"},
            **call_kwargs,
        )
        assert result.id and result.id.isdigit()
        client.send_typing_notification(sender_display_name="Official SDK", **call_kwargs)
        client.send_read_receipt(result.id, **call_kwargs)

        events = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/events", ca_file)["events"]
        assert [e["op"] for e in events] == ["message", "typing", "readReceipt"]
        message, typing, receipt = events
        assert message["id"] == result.id
        assert message["content"] == "hello from the official SDK"
        assert message["type"] == "text"
        assert message["senderDisplayName"] == "Official SDK"
        assert message["metadata"] == {"tag": "sdk", "n": "1"}
        assert typing["senderDisplayName"] == "Official SDK"
        assert receipt["chatMessageId"] == result.id
        for event in events:
            assert event["user"] == user
            assert event["userAgent"].startswith("azsdk-python-communication-chat/")
            assert event["clientRequestId"]

        requests = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/requests", ca_file)["requests"]
        assert [r["status"] for r in requests] == [201, 200, 200]
        assert all(r["authorization"] == "Bearer" and not r["fault"] for r in requests)


def test_http_with_enforce_https_false(http_emulator):
    url, _ = http_emulator
    assert url.startswith("http://")
    _exercise(url, None, enforce_https=False)


def test_http_is_refused_by_the_sdk_without_the_opt_out(http_emulator):
    url, _ = http_emulator
    from azure.core.exceptions import ServiceRequestError

    token = _get_json(url + "/_emulator/token")["token"]
    client = ChatThreadClient(url, CommunicationTokenCredential(token), "plain")
    with pytest.raises(ServiceRequestError):
        client.send_typing_notification()
    assert _get_json(url + "/_emulator/threads/plain/requests")["requests"] == []


def test_https_with_a_test_ca(https_emulator):
    url, ca_file = https_emulator
    assert url.startswith("https://")
    _exercise(url, ca_file)


def test_typing_without_a_body_through_the_sdk_pipeline(http_emulator):
    """api-version 2021-03-07 had no typing body: the SDK's own pipeline (bearer policy,
    headers, retries) sends a POST with none, and the emulator accepts it as the service does."""
    from azure.core.rest import HttpRequest

    url, _ = http_emulator
    user = "8:acs:official-sdk-typist"
    token = _get_json(url + "/_emulator/token?user=" + _segment(user))["token"]
    thread_id = "19:empty-typing@thread.v2"
    client = ChatThreadClient(url, CommunicationTokenCredential(token), thread_id)
    request = HttpRequest("POST", f"/chat/threads/{_segment(thread_id)}/typing?api-version=2021-03-07")
    assert request.content is None
    response = client._client._send_request(request, enforce_https=False)
    assert response.status_code == 200
    assert response.text() == ""

    requests = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/requests")["requests"]
    assert len(requests) == 1
    assert requests[0]["apiVersion"] == "2021-03-07"
    assert requests[0]["authorization"] == "Bearer"
    assert requests[0]["contentType"] is None
    events = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/events")["events"]
    assert [(e["op"], e["senderDisplayName"], e["user"]) for e in events] == [("typing", None, user)]


def test_message_content_over_28_kb_is_refused_to_the_sdk(http_emulator):
    from azure.core.exceptions import HttpResponseError

    url, _ = http_emulator
    token = _get_json(url + "/_emulator/token")["token"]
    thread_id = "19:size@thread.v2"
    client = ChatThreadClient(url, CommunicationTokenCredential(token), thread_id)
    largest = "a" * (28 * 1024)
    assert client.send_message(largest, enforce_https=False).id.isdigit()
    with pytest.raises(HttpResponseError) as refused:
        client.send_message(largest + "a", enforce_https=False)
    assert refused.value.status_code == 400
    assert "Message size exceeded." in str(refused.value)

    events = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/events")["events"]
    assert [len(e["content"]) for e in events] == [28 * 1024]
    requests = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/requests")["requests"]
    assert [r["status"] for r in requests] == [201, 400], "refused once, not retried"
