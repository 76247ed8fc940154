import os

from kombu import Connection

from strangler.service.config import filesystem_broker_options


def test_messages_cross_processes_through_the_filesystem_broker_whole(tmp_path):
    options = filesystem_broker_options(tmp_path)
    with Connection("filesystem://", transport_options=options) as producer_side:
        queue = producer_side.SimpleQueue("atomic-test")
        for n in range(50):
            queue.put({"n": n, "padding": "x" * 10_000})
        queue.close()
    # No partial (temporary) file is ever left where consumers look.
    assert not [f for f in os.listdir(tmp_path / "queue") if f.endswith(".tmp")]
    with Connection("filesystem://", transport_options=options) as consumer_side:
        queue = consumer_side.SimpleQueue("atomic-test")
        received = []
        for _ in range(50):
            message = queue.get(timeout=5)
            received.append(message.payload["n"])
            message.ack()
        queue.close()
    assert sorted(received) == list(range(50))
