"""Cold start in Python: import, create a client, send one message; prints
``CLIENT_READY_NS <CLOCK_MONOTONIC ns>`` once the client exists and
``FIRST_SEND_NS <ns>`` when the send has completed. Usage: cold.py acs_chat|official|none URL TOKEN [CA_FILE]."""
import sys
import time

impl, url, token = sys.argv[1], sys.argv[2], sys.argv[3]
ca = sys.argv[4] if len(sys.argv) > 4 else None
thread_id = "19:bench-cold@thread.v2"


def ready():
    print("CLIENT_READY_NS", time.clock_gettime_ns(time.CLOCK_MONOTONIC), flush=True)


if impl == "acs_chat":
    from acs_chat import ChatClient

    client = ChatClient(url, token, ca_file=ca)
    ready()
    client.get_chat_thread_client(thread_id).send_message("Hello from the acs_chat benchmark")
elif impl == "official":
    from azure.communication.chat import ChatThreadClient, CommunicationTokenCredential

    kwargs = {"connection_verify": ca} if ca else {}
    client = ChatThreadClient(url, CommunicationTokenCredential(token), thread_id, **kwargs)
    ready()
    # Bearer tokens over plain http need enforce_https=False, per call.
    per_call = {"enforce_https": False} if url.startswith("http:") else {}
    client.send_message("Hello from the acs_chat benchmark", **per_call)
elif impl != "none":
    sys.exit("unknown implementation " + impl)
print("FIRST_SEND_NS", time.clock_gettime_ns(time.CLOCK_MONOTONIC), flush=True)
