"""Pure string rules of TF1 naming: validation, joining, uniquification counters.

Nothing here knows about torch. Three pieces of TF1 state are modelled:

* :class:`OpNames` — a graph's op-name registry (``Graph.unique_name``): name scopes, ``Variable``
  names and variable display names are uniquified in it, case-insensitively.
* :class:`ScopeCounts` — ``_VariableScopeStore.variable_scopes_count``: how often each variable
  scope was opened, for ``default_name`` uniquification, with TF's reset rules.
* key escaping — a TF name (``tower/conv1/w``) as an ``nn.Module`` attribute key: PyTorch forbids
  ``.`` in parameter names, so ``.`` is escaped reversibly.

Example:
    >>> names = OpNames()
    >>> [names.unique("", n) for n in ("v", "v", "V")]
    ['v', 'v_1', 'V_2']
    >>> join("tower", "w"), join("", "w")
    ('tower/w', 'w')
    >>> unescape_key(escape_key("block.1/w")) == "block.1/w"
    True
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

__all__ = [
    "OpNames",
    "ScopeCounts",
    "escape_key",
    "join",
    "unescape_key",
]

def join(prefix: str, name: str) -> str:
    """``prefix/name``, or ``name`` at the root (TF's rule: an empty prefix adds no slash)."""
    return prefix + "/" + name if prefix else name


def escape_key(name: str) -> str:
    """A TF name as an ``nn.Module`` parameter key: ``%`` → ``%25``, ``.`` → ``%2E``.

    ``/`` is kept (PyTorch allows it), so state_dict keys read as TF names.
    """
    if "%" in name:
        name = name.replace("%", "%25")
    if "." in name:
        name = name.replace(".", "%2E")
    return name or "%"


def unescape_key(key: str) -> str:
    """Inverse of :func:`escape_key`."""
    if key == "%":
        return ""
    if "%" not in key:
        return key
    return key.replace("%2E", ".").replace("%25", "%")


class OpNames:
    """A graph's op-name registry: TF's ``Graph.unique_name``.

    Keys are lower-cased, so ``v``, ``v``, ``V`` give ``v``, ``v_1``, ``V_2``. The first free
    suffix is chosen by counting up from the number of times the name was asked for.
    """

    __slots__ = ("_used",)

    def __init__(self) -> None:
        self._used: Dict[str, int] = {}

    @staticmethod
    def is_valid_scope_name(name: str, at_root: bool) -> bool:
        """TF's name-scope patterns, without ``re``: ``^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$`` at
        the root, ``^[A-Za-z0-9_.\\\\/>-]*$`` below it. Also the rule for a variable's name.

        ``str.strip`` runs in C and is constant-folded by ``torch.compile``; a regex would not be.
        The character sets are literals, and a pass reaches this through its own registry: a
        module constant or function read by a pass that ``torch.compile`` traces would be
        guarded on every call of the compiled module (a method reached through an object the
        pass made is not).

        Example:
            >>> [OpNames.is_valid_scope_name(n, at_root=False) for n in ("_x", "a b", "")]
            [True, False, True]
            >>> [OpNames.is_valid_scope_name(n, at_root=True) for n in ("_x", "x/_y", "")]
            [False, True, False]
        """
        if at_root and (not name or name[0] not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "abcdefghijklmnopqrstuvwxyz0123456789."):
            return False
        return not name.strip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789_.\\/>-")

    def unique(self, stack: str, name: str, mark_as_used: bool = True,
               journal: Optional[List[Tuple[str, Optional[int]]]] = None) -> str:
        """The unique version of ``stack/name`` (marked as used unless told otherwise).

        With ``journal``, each touched key and its previous count (None: absent) is appended
        first, so the caller can undo the call.
        """
        full = stack + "/" + name if stack else name
        key = full.lower()
        if key == full:     # keep one string per name, not two (str.islower() is 4x slower)
            key = full
        used = self._used
        i = used.get(key, 0)
        if i == 0 and mark_as_used and journal is None:   # the common case: a new name
            used[key] = 1
            return full
        if mark_as_used:
            if journal is not None:
                journal.append((key, used.get(key)))
            used[key] = i + 1
        if i > 0:
            base = key
            while key in used:
                key = "%s_%d" % (base, i)
                i += 1
            if mark_as_used:
                if journal is not None:
                    journal.append((key, None))
                used[key] = 1
            full = "%s_%d" % (full, i - 1)
        return full

    def undo(self, journal: List[Tuple[str, Optional[int]]]) -> None:
        """Reverts the changes recorded in ``journal`` (newest first)."""
        used = self._used
        for key, previous in reversed(journal):
            if previous is None:
                used.pop(key, None)
            else:
                used[key] = previous

    def copy(self) -> "OpNames":
        other = OpNames()
        other._used = dict(self._used)
        return other


class ScopeCounts:
    """How many times each variable scope was opened (``variable_scopes_count``).

    TF's rules, with the same results but without TF's whole-dict scans:

    * ``open(name)`` counts an entry of the scope with full name ``name``;
    * ``close_subscopes(name)`` (a scope entered by string exits) resets every scope *below*
      ``name`` (keys starting with ``name + "/"``) to zero;
    * ``snapshot()`` / ``restore(token)`` bracket a scope entered by ``VariableScope`` object: on
      exit every count is restored to what it was at entry.

    Zero counts are deleted, and a child index per name makes a reset touch only the scope's own
    descendants, so building N scopes costs O(N), not O(N²).

    Example:
        >>> c = ScopeCounts()
        >>> c.open("foo"); c.open("foo/bar"); c.count("foo/bar")
        1
        >>> c.close_subscopes("foo"); c.count("foo/bar"), c.count("foo")
        (0, 1)
    """

    __slots__ = ("_counts", "_children", "_journal", "_marks")

    def __init__(self) -> None:
        self._counts: Dict[str, int] = {}
        # the tree of "/"-prefixes of every counted name: node -> nodes one component below it
        self._children: Dict[str, Dict[str, None]] = {}   # dicts as ordered sets
        self._journal: List[Tuple[str, int]] = []   # (name, previous count) while a snapshot is open
        self._marks = 0

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def _link(self, name: str) -> None:
        """Adds ``name`` and its missing ancestors to the prefix tree."""
        children = self._children
        while True:
            parent, sep, _ = name.rpartition("/")
            if not sep:
                return
            siblings = children.get(parent)
            if siblings is None:
                children[parent] = {name: None}
                name = parent          # the parent is new too: link it upwards
            else:
                siblings[name] = None
                return

    def _set(self, name: str, value: int) -> None:
        counts = self._counts
        if self._marks:
            self._journal.append((name, counts.get(name, 0)))
        if value:
            if name not in counts:
                self._link(name)
            counts[name] = value
        else:
            counts.pop(name, None)

    def open(self, name: str) -> None:
        counts = self._counts
        count = counts.get(name)
        if self._marks:
            self._journal.append((name, count or 0))
        if count is None:
            self._link(name)
            counts[name] = 1
        else:
            counts[name] = count + 1

    def close_subscopes(self, name: Optional[str]) -> None:
        """Resets every scope below ``name`` (all scopes when ``name`` is None)."""
        if name is None:
            for key in list(self._counts):
                self._set(key, 0)
            return
        below = self._children.pop(name, None)
        pending = [*below] if below else []     # a display: list() is a guard when traced
        while pending:
            child = pending.pop()
            if child in self._counts:
                self._set(child, 0)
            grandchildren = self._children.pop(child, None)
            if grandchildren:
                pending.extend(grandchildren)
        # the subtree is gone from the index; names counted again later re-link themselves

    def unique_default(self, current: str, prefix: str) -> str:
        """TF's ``_get_unique_variable_scope``: the first free ``prefix``, ``prefix_1``, ..."""
        name = current + "/" + prefix if current else prefix
        counts = self._counts
        if not counts.get(name):
            return prefix
        idx = 1
        while counts.get("%s_%d" % (name, idx)):
            idx += 1
        return "%s_%d" % (prefix, idx)

    def snapshot(self) -> int:
        """Starts recording changes; returns a token for :meth:`restore`."""
        self._marks += 1
        return len(self._journal)

    def restore(self, token: int) -> None:
        """Undoes every change made since :meth:`snapshot` returned ``token``."""
        journal = self._journal
        self._marks -= 1
        marks, self._marks = self._marks, 0
        while len(journal) > token:
            name, value = journal.pop()
            self._set(name, value)
        self._marks = marks
