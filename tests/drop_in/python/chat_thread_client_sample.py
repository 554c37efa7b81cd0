# -------------------------------------------------------------------------
# Adapted from the azure-communication-chat samples (chat_thread_client_sample.py and the
# package README), Copyright (c) Microsoft Corporation, MIT License. Kept to the three
# operations acs_chat implements: send_message (with its options), send_typing_notification
# and send_read_receipt. The drop-in runner executes this file unchanged against the official
# SDK, then with only the `azure.communication.chat` import lines rewritten to `acs_chat`.
# --------------------------------------------------------------------------

"""
FILE: chat_thread_client_sample.py
DESCRIPTION:
    These samples demonstrate sending a message, a typing notification and a read receipt
    with the ChatThreadClient.
USAGE:
    python chat_thread_client_sample.py
    Set the environment variables with your own values before running the sample:
    1) AZURE_COMMUNICATION_SERVICE_ENDPOINT - Communication Service endpoint url
    2) COMMUNICATION_USER_TOKEN - a user access token with the chat scope
    3) CHAT_THREAD_ID - the thread the user takes part in
"""

import os


class ChatThreadClientSamples(object):
    endpoint = os.environ["AZURE_COMMUNICATION_SERVICE_ENDPOINT"]
    token = os.environ["COMMUNICATION_USER_TOKEN"]
    _thread_id = os.environ["CHAT_THREAD_ID"]
    _message_id = None

    def create_chat_thread_client(self):
        # [START create_chat_thread_client]
        from azure.communication.chat import ChatThreadClient, CommunicationTokenCredential

        chat_thread_client = ChatThreadClient(self.endpoint, CommunicationTokenCredential(self.token), self._thread_id)
        # [END create_chat_thread_client]
        print("chat_thread_client created with thread id: ", chat_thread_client.thread_id)
        chat_thread_client.close()

    def send_message(self):
        from azure.communication.chat import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        thread_id = self._thread_id
        # [START send_message]
        from azure.communication.chat import ChatMessageType

        chat_thread_client = chat_client.get_chat_thread_client(thread_id=thread_id)

        # Scenario 1: Send message without specifying chat_message_type
        send_message_result = chat_thread_client.send_message(
            "Hello! My name is Fred Flinstone", sender_display_name="Fred Flinstone"
        )
        send_message_result_id = send_message_result.id

        # Scenario 2: Send message specifying chat_message_type
        send_message_result_w_type = chat_thread_client.send_message(
            "Hello! My name is Wilma Flinstone",
            sender_display_name="Wilma Flinstone",
            chat_message_type=ChatMessageType.TEXT,
        )  # equivalent to setting chat_message_type='text'
        send_message_result_w_type_id = send_message_result_w_type.id

        # Scenario 3: Send message with metadata (README)
        content = "hello world"
        sender_display_name = "sender name"
        metadata = {"tags": "tag"}
        send_message_result_w_enum = chat_thread_client.send_message(
            content=content,
            sender_display_name=sender_display_name,
            chat_message_type=ChatMessageType.HTML,
            metadata=metadata,
        )
        # [END send_message]
        self._message_id = send_message_result_id
        print("send_message succeeded, message id:", self._message_id)
        print("send_message succeeded with type specified, message id:", send_message_result_w_type_id)
        print("Message sent: id: ", send_message_result_w_enum.id)

    def send_typing_notification(self):
        from azure.communication.chat import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        thread_id = self._thread_id
        # [START send_typing_notification]
        chat_thread_client = chat_client.get_chat_thread_client(thread_id=thread_id)

        chat_thread_client.send_typing_notification()
        chat_thread_client.send_typing_notification(sender_display_name="Fred Flinstone")
        # [END send_typing_notification]
        print("send_typing_notification succeeded")

    def send_read_receipt(self):
        from azure.communication.chat import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        thread_id = self._thread_id
        message_id = self._message_id
        # [START send_read_receipt]
        chat_thread_client = chat_client.get_chat_thread_client(thread_id=thread_id)

        chat_thread_client.send_read_receipt(message_id=message_id)
        # [END send_read_receipt]
        print("send_read_receipt succeeded")


if __name__ == "__main__":
    sample = ChatThreadClientSamples()
    sample.create_chat_thread_client()
    sample.send_message()
    sample.send_typing_notification()
    sample.send_read_receipt()
