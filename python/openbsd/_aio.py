"""``Live.aiter()``: packets on the asyncio event loop.

The capture's selectable descriptor is watched with ``loop.add_reader`` (no
thread) only while nothing is buffered; the packets libpcap has buffered are
handed out by ``Live._next_nowait()``, which never waits.
"""

import asyncio


#: The longest a wait goes without looking whether the feed was closed.
_SLICE = 0.25


def _wake(fut):
    if not fut.done():
        fut.set_result(None)


async def aiter(live, interpret=None):
    """Yields ``(packet, tstamp, length)`` from ``live`` as packets come.

    The reader is registered only while the generator waits, so a consumer
    that stops iterating (``break``) leaves nothing on the event loop;
    cancelling the task removes it at once. The feed stays open and its
    blocking mode is not touched. A feed closed while the iteration waits
    ends it with ``PcapError("feed is closed")`` within a quarter second.
    """
    loop = asyncio.get_running_loop()
    fd = live.fileno()
    while True:
        record = live._next_nowait(interpret)
        if record is not None:
            yield record
            continue
        # Nothing buffered: wait until the descriptor is readable. The wait
        # is cut into slices so that a feed closed meanwhile (whose
        # descriptor then never becomes readable) ends the iteration with
        # "feed is closed" instead of hanging.
        if live.closed:
            live._next_nowait()           # raises PcapError("feed is closed")
        ready = loop.create_future()
        loop.add_reader(fd, _wake, ready)
        try:
            await asyncio.wait((ready,), timeout=_SLICE)
        finally:
            loop.remove_reader(fd)
            ready.cancel()
