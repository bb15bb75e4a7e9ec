"""The reporting consumer's write path under FastStream: the peer column of bench-reporting.

    python -m bench.faststream_peer --queue Q --dsn DSN --amqp-uri URI [--prefetch 100]

A FastStream (asyncio, aio-pika) subscriber on a queue the benchmark declared and bound like the
service's: each message is validated by the same `shared.envelope.parse_event` (marshmallow),
batches of the messages that arrive while one is in the database are applied by the same
`services.reporting.recording.record_events` over the same `SqlUnitOfWork` and repository (the
same projection SQL, one transaction per batch, psycopg2 in a worker thread so the event loop
goes on), and each message is acked only after its batch committed, as the service does. What
differs is only the stack around it: asyncio + aio-pika + FastStream instead of eventlet + kombu
+ nameko (no worker per message, no dependency injection per worker, no green sockets). Not part
of the services: it exists so that the cost of the nameko stack is a measured figure.
"""
import argparse
import asyncio
import logging

from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel

from services.reporting.recording import record_events
from services.reporting.repository import ReportingRepository
from shared import config
from shared.db import Pool, SqlUnitOfWork
from shared.envelope import EventError, parse_event
from shared.group_commit import MAX_BATCH

log = logging.getLogger("bench.faststream_peer")


class GroupCommit:
    """shared.group_commit's rule on asyncio: what arrives while a batch is in the database is the next batch."""

    def __init__(self, pool):
        self.pool = pool
        self.key = config.service_env("reporting", "PSEUDONYM_KEY", config.DEV_PSEUDONYM_KEY)  # the service's
        self.pending = []
        self.flushing = None

    def submit(self, event, message):
        self.pending.append((event, message))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self):
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            unit = SqlUnitOfWork("reporting", self.pool, ReportingRepository)
            try:
                await asyncio.to_thread(record_events, unit, [event for event, _ in batch], self.key)
            except Exception:
                log.exception("a batch of %d events failed; requeueing it", len(batch))
                for _, message in batch:
                    await message.nack()
                continue
            for _, message in batch:
                await message.ack()


def app(queue, dsn, amqp_uri, prefetch):
    broker = RabbitBroker(amqp_uri, logger=None)
    committer = GroupCommit(Pool(dsn, 2))

    async def undecoded(message):
        # The handler gets the message itself: validation is parse_event's job, as in the service, and
        # asking FastStream for it by annotation (Context("message"), or NoCast) resolves it in a worker
        # thread for every message (fast_depends runs a custom field's sync resolver through
        # anyio.to_thread): 14-17 % of the peer's CPU in py-spy (docs/performance.md).
        return message

    @broker.subscriber(RabbitQueue(queue, durable=True, declare=False), channel=Channel(prefetch_count=prefetch),
                       ack_policy=AckPolicy.MANUAL, decoder=undecoded)
    async def on_event(message):  # no annotation: nothing to cast or resolve
        try:
            event, data = parse_event(message.body)
        except EventError:
            await message.reject()  # the service dead-letters it; the benchmark sends none
            return
        committer.submit({**event, "data": data}, message)

    return FastStream(broker, logger=None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--amqp-uri", required=True)
    parser.add_argument("--prefetch", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(app(args.queue, args.dsn, args.amqp_uri, args.prefetch).run())


if __name__ == "__main__":
    main()
