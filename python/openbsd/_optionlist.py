"""``IPOptionList``: what ``IP.options`` returns.

A list of the header's ``IPOption`` objects, in order, that can also be
indexed by option type name as the legacy library's option chain could:
``ip.options["ipoptionrecordroute"]`` is the first Record Route option
(``KeyError`` if there is none), ``"ipoptionnop" in ip.options`` tells
whether there is one. As the legacy ``options`` was the first option of a
chain, the list also answers that option's attributes
(``ip.options.addrlist``), and ``_next`` is the second option (or None). Integer indexes, slices, ``len`` and iteration are
the list's. The list is a copy: changing it changes nothing in the packet
until it is assigned back to ``ip.options``.
"""

__all__ = ["IPOptionList"]


class IPOptionList(list):
    """A list of IP options that also looks options up by type name."""

    __slots__ = ()
    __module__ = "openbsd.packet"

    def _find(self, name):
        for opt in self:
            if opt.isType(name):
                return opt
        return None

    def __getitem__(self, key):
        if isinstance(key, str):
            opt = self._find(key)
            if opt is None:
                raise KeyError(f"No such option: {key}.")
            return opt
        return list.__getitem__(self, key)

    def __contains__(self, key):
        if isinstance(key, str):
            return self._find(key) is not None
        return list.__contains__(self, key)

    def has_key(self, name):
        """Whether an option of type `name` (any case) is present."""
        return self._find(name) is not None

    # The legacy `IP.options` was the first option of a chain: its
    # attributes, and `_next` for the option after it, are answered here.
    def __getattr__(self, name):
        if name.startswith("__") or not self:
            raise AttributeError(f"'IPOptionList' object has no attribute {name!r}")
        if name == "_next":
            return self[1] if len(self) > 1 else None
        return getattr(self[0], name)
