"""``Timestamp``: the timestamp of a decoded packet.

Feeds read with ``interpret`` true hand the callback (and ``next()``) a
``Timestamp``: a ``(sec, usec)`` tuple, as raw reads give, that also answers
the attributes and methods of ``datetime.datetime`` (the legacy library
handed out ``datetime.fromtimestamp(sec + usec / 1e6)``, local time):
``ts.strftime("%H:%M:%S")``, ``ts.year``, ``ts.isoformat()``,
``ts - earlier`` (a ``timedelta``) all work on the same object that unpacks
as ``sec, usec = ts`` and formats with ``"%d.%06d" % ts``.

The native reader builds these objects itself (filling the tuple in place),
so the class must stay a plain tuple subtype: no instance attributes.
"""

import datetime as _datetime

__all__ = ["Timestamp"]


class Timestamp(tuple):
    """(sec, usec) that also behaves as the ``datetime`` of that instant
    (local time, as ``datetime.fromtimestamp`` gives it)."""

    __slots__ = ()
    __module__ = "openbsd.pcap"

    def __new__(cls, sec, usec=0):
        return tuple.__new__(cls, (sec, usec))

    def __getnewargs__(self):
        return (self[0], self[1])

    @property
    def sec(self):
        """Whole seconds since the epoch."""
        return self[0]

    @property
    def usec(self):
        """Microseconds past ``sec``."""
        return self[1]

    def datetime(self):
        """The instant as a naive local ``datetime.datetime``, exact to the
        microsecond."""
        sec, usec = self[0], self[1]
        if 0 <= usec < 1000000:
            return _datetime.datetime.fromtimestamp(sec).replace(microsecond=usec)
        # A damaged record's fraction out of range: as the legacy library
        # computed it.
        return _datetime.datetime.fromtimestamp(sec + usec / 1e6)

    def __getattr__(self, name):
        # Only called for names a tuple does not have: datetime's.
        if name.startswith("__"):
            raise AttributeError(f"'Timestamp' object has no attribute {name!r}")
        try:
            return getattr(self.datetime(), name)
        except AttributeError:
            raise AttributeError(f"'Timestamp' object has no attribute {name!r}") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | {n for n in dir(_datetime.datetime) if not n.startswith("_")})

    # datetime arithmetic; tuple concatenation stays for tuples.
    def __add__(self, other):
        if isinstance(other, _datetime.timedelta):
            return self.datetime() + other
        return tuple.__add__(self, other)

    def __radd__(self, other):
        if isinstance(other, _datetime.timedelta):
            return self.datetime() + other
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Timestamp):
            other = other.datetime()
        if isinstance(other, (_datetime.datetime, _datetime.timedelta)):
            return self.datetime() - other
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, _datetime.datetime):
            return other - self.datetime()
        return NotImplemented

    # Ordering against a datetime compares instants; against anything else
    # it is the tuple's. (Equality stays the tuple's, so that hashing agrees
    # with it: compare ts.datetime() == dt for instants.)
    def __lt__(self, other):
        if isinstance(other, _datetime.datetime):
            return self.datetime() < other
        return tuple.__lt__(self, other)

    def __le__(self, other):
        if isinstance(other, _datetime.datetime):
            return self.datetime() <= other
        return tuple.__le__(self, other)

    def __gt__(self, other):
        if isinstance(other, _datetime.datetime):
            return self.datetime() > other
        return tuple.__gt__(self, other)

    def __ge__(self, other):
        if isinstance(other, _datetime.datetime):
            return self.datetime() >= other
        return tuple.__ge__(self, other)
