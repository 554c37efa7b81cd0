"""The unmodified official identity SDK (azure-communication-identity) against the emulator's
identity routes over HTTPS: its own HMAC-SHA256 signing is accepted, a wrong key refused, and
the tokens it gets work on the chat routes."""

import base64
import datetime
import json
import subprocess

import pytest
from azure.communication.identity import CommunicationIdentityClient, CommunicationTokenScope
from azure.core.exceptions import HttpResponseError

from test_official_sdk import EMULATOR, _get_json, _segment, _stop, _write_certs


@pytest.fixture
def https_emulator(tmp_path, monkeypatch):
    paths = _write_certs(str(tmp_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", paths["ca"])
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    proc = subprocess.Popen(
        [EMULATOR, "--listen", "127.0.0.1:0", "--tls-cert", paths["cert"], "--tls-key", paths["key"]],
        stdout=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline().strip()
    assert first.startswith("listening on https://"), first
    url = first[len("listening on "):]
    connection_string = proc.stdout.readline().strip()
    assert connection_string.startswith(f"endpoint={url}/;accesskey="), connection_string
    yield url, paths["ca"], connection_string
    _stop(proc)


def _payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_official_identity_sdk_is_accepted(https_emulator):
    url, ca_file, connection_string = https_emulator
    assert _get_json(url + "/_emulator/identity", ca_file)["users"] == 0
    client = CommunicationIdentityClient.from_connection_string(connection_string)
    user, token = client.create_user_and_token(scopes=[CommunicationTokenScope.CHAT])
    user_id = user.properties["id"]
    assert user_id.startswith("8:acs:")
    issued = client.get_token(user, [CommunicationTokenScope.CHAT], token_expires_in=datetime.timedelta(minutes=60))
    lifetime = _payload(issued.token)["exp"] - datetime.datetime.now(datetime.timezone.utc).timestamp()
    assert 3590 < lifetime <= 3600
    requests = _get_json(url + "/_emulator/identity/requests", ca_file)["requests"]
    assert [(r["op"], r["status"]) for r in requests] == [("createUser", 201), ("issueAccessToken", 200)]
    assert requests[1]["pathAndQuery"].startswith(f"/identities/{_segment(user_id)}/:issueAccessToken?")
    # The token works on the chat routes, as the user it was issued for.
    thread_id = "19:identity-sdk@thread.v2"
    from azure.communication.chat import ChatThreadClient, CommunicationTokenCredential

    ChatThreadClient(url, CommunicationTokenCredential(issued.token), thread_id).send_typing_notification()
    events = _get_json(f"{url}/_emulator/threads/{_segment(thread_id)}/events", ca_file)["events"]
    assert [e["user"] for e in events] == [user_id[len("8:"):]]

    wrong = base64.b64encode(b"not the emulator's key").decode()
    refused = CommunicationIdentityClient.from_connection_string(f"endpoint={url}/;accesskey={wrong}")
    with pytest.raises(HttpResponseError) as caught:
        refused.create_user()
    assert caught.value.status_code == 401
