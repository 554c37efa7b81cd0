"""Send a message, a typing notification and a read receipt to one chat thread.

    ACS_ENDPOINT=https://<resource>.communication.azure.com \
    ACS_TOKEN=<user access token> \
    ACS_THREAD_ID='19:...@thread.v2' \
    python examples/python/send.py
"""

import os
import sys

from acs_chat import AcsChatError, ChatClient, ChatMessageType


def main() -> int:
    try:
        endpoint = os.environ["ACS_ENDPOINT"]
        token = os.environ["ACS_TOKEN"]
        thread_id = os.environ["ACS_THREAD_ID"]
    except KeyError as missing:
        print(f"set {missing.args[0]} (and ACS_ENDPOINT, ACS_TOKEN, ACS_THREAD_ID)", file=sys.stderr)
        return 2

    try:
        with ChatClient(endpoint, token, application_id="acs-chat-example") as client:
            thread = client.get_chat_thread_client(thread_id)

            thread.send_typing_notification(sender_display_name="Example")
            print("typing notification sent")

            result = thread.send_message(
                "Hello from acs_chat!",
                chat_message_type=ChatMessageType.TEXT,
                sender_display_name="Example",
                metadata={"source": "examples/python/send.py"},
            )
            print(f"message sent: id {result.id}")

            thread.send_read_receipt(result.id)
            print(f"read receipt sent for {result.id}")
    except AcsChatError as err:
        print(f"failed: {err.result} status={err.status_code} code={err.error_code} "
              f"request_id={err.request_id}: {err.message}", file=sys.stderr)
        if err.retry_after is not None:
            print(f"the service asks to retry after {err.retry_after:g} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
