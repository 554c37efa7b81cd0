# -------------------------------------------------------------------------
# Adapted from the azure-communication-chat samples (chat_thread_client_sample_async.py),
# Copyright (c) Microsoft Corporation, MIT License. Kept to the three operations acs_chat
# implements. The drop-in runner executes this file unchanged against the official SDK, then
# with only the `azure.communication.chat` import lines rewritten to `acs_chat`.
# --------------------------------------------------------------------------

"""
FILE: chat_thread_client_sample_async.py
DESCRIPTION:
    These samples demonstrate sending a message, a typing notification and a read receipt
    with the asynchronous ChatThreadClient.
USAGE:
    python chat_thread_client_sample_async.py
    Set the environment variables with your own values before running the sample:
    1) AZURE_COMMUNICATION_SERVICE_ENDPOINT - Communication Service endpoint url
    2) COMMUNICATION_USER_TOKEN - a user access token with the chat scope
    3) CHAT_THREAD_ID - the thread the user takes part in
"""

import asyncio
import os


class ChatThreadClientSamplesAsync(object):
    endpoint = os.environ["AZURE_COMMUNICATION_SERVICE_ENDPOINT"]
    token = os.environ["COMMUNICATION_USER_TOKEN"]
    _thread_id = os.environ["CHAT_THREAD_ID"]
    _message_id = None

    async def create_chat_thread_client_async(self):
        # [START create_chat_thread_client]
        from azure.communication.chat.aio import ChatThreadClient, CommunicationTokenCredential

        chat_thread_client = ChatThreadClient(self.endpoint, CommunicationTokenCredential(self.token), self._thread_id)
        # [END create_chat_thread_client]
        async with chat_thread_client:
            print("chat_thread_client created with thread id: ", chat_thread_client.thread_id)

    async def send_message_async(self):
        from azure.communication.chat.aio import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        async with chat_client:
            chat_thread_client = chat_client.get_chat_thread_client(self._thread_id)
            async with chat_thread_client:
                # [START send_message]
                from azure.communication.chat import ChatMessageType

                # Scenario 1: Send message without specifying chat_message_type
                send_message_result = await chat_thread_client.send_message(
                    "Hello! My name is Fred Flinstone", sender_display_name="Fred Flinstone"
                )
                send_message_result_id = send_message_result.id

                # Scenario 2: Send message specifying chat_message_type
                send_message_result_w_type = await chat_thread_client.send_message(
                    "Hello! My name is Wilma Flinstone",
                    sender_display_name="Wilma Flinstone",
                    chat_message_type=ChatMessageType.TEXT,
                )  # equivalent to setting chat_message_type='text'
                send_message_result_w_type_id = send_message_result_w_type.id

                # Scenario 3: Send message with metadata
                send_message_result_w_metadata = await chat_thread_client.send_message(
                    content="hello world",
                    sender_display_name="sender name",
                    chat_message_type=ChatMessageType.HTML,
                    metadata={"tags": "tag"},
                )
                # [END send_message]
                self._message_id = send_message_result_id
                print("send_message succeeded, message id:", self._message_id)
                print("send_message succeeded with type specified, message id:", send_message_result_w_type_id)
                print("Message sent: id: ", send_message_result_w_metadata.id)

    async def send_typing_notification_async(self):
        from azure.communication.chat.aio import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        async with chat_client:
            chat_thread_client = chat_client.get_chat_thread_client(self._thread_id)
            async with chat_thread_client:
                # [START send_typing_notification]
                await chat_thread_client.send_typing_notification()
                await chat_thread_client.send_typing_notification(sender_display_name="Fred Flinstone")
                # [END send_typing_notification]
        print("send_typing_notification succeeded")

    async def send_read_receipt_async(self):
        from azure.communication.chat.aio import ChatClient, CommunicationTokenCredential

        chat_client = ChatClient(self.endpoint, CommunicationTokenCredential(self.token))
        async with chat_client:
            chat_thread_client = chat_client.get_chat_thread_client(self._thread_id)
            async with chat_thread_client:
                # [START send_read_receipt]
                await chat_thread_client.send_read_receipt(self._message_id)
                # [END send_read_receipt]
        print("send_read_receipt succeeded")


async def main():
    sample = ChatThreadClientSamplesAsync()
    await sample.create_chat_thread_client_async()
    await sample.send_message_async()
    await sample.send_typing_notification_async()
    await sample.send_read_receipt_async()


if __name__ == "__main__":
    asyncio.run(main())
