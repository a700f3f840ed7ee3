"""TF1 conformance §3.11: threads (cases 110–112), plus the concurrency acceptance checks.

TF1 keeps the variable store per graph (shared by all threads) and the current variable scope,
name stack and ``default_name`` counters per thread; each new thread starts at the root scope
of the default graph. torchscope: the store is shared and locked, the scope state is a
``threading.local``, and ``store.as_default()`` is per thread like ``graph.as_default()``.
"""

import sys
import threading

import pytest
import torch

import torchscope as ts

TIMEOUT = 10.0


@pytest.fixture
def frequent_thread_switches():
    """Makes the interpreter switch threads every microsecond, so racing threads interleave
    inside ``get_variable`` instead of each finishing within one 5 ms time slice."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_threads(targets):
    """Starts one thread per target, joins them and re-raises the first failure here."""
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------- case 110

def test_thread_cannot_recreate_variable_an_earlier_thread_created(store):
    """§3.11 case 110: thread 0 creates ``foo/v``; thread 1, started after thread 0 finished,
    enters ``foo`` from its own root and fails to create it again (the store is shared)."""
    seen = {}

    def thread_fn(i):
        with store.as_default():
            with ts.variable_scope("foo") as scope:
                seen[i] = (scope.name, scope.reuse)
                if i == 0:
                    seen["v"] = ts.get_variable("v", [])
                else:
                    with pytest.raises(ts.VariableExistsError,
                                       match=r"^Variable foo/v already exists"):
                        ts.get_variable("v", [])

    run_threads([lambda: thread_fn(0)])
    run_threads([lambda: thread_fn(1)])
    assert store.name_of(seen["v"]) == "foo/v"
    assert seen[0] == seen[1] == ("foo", False)
    assert list(store) == ["foo/v"]


# --------------------------------------------------------------------------- case 111

def test_threads_inside_same_scope_at_once_share_store_not_scopes(store):
    """§3.11 case 111: both threads are inside ``variable_scope("foo")`` at the same time;
    thread 1's scope is ``foo`` (not ``foo/foo``: scopes are per thread), its name scope is
    ``foo_1/`` (name scopes share the graph's registry, TF verified), and creating ``foo/v``
    again fails."""
    run_events = [threading.Event() for _ in range(2)]
    pause_events = [threading.Event() for _ in range(2)]
    seen = {}
    errors = []

    def thread_fn(i):
        try:
            with store.as_default():
                with ts.variable_scope("foo") as scope:
                    seen[i] = (scope.name, scope.original_name_scope)
                    if i == 0:
                        seen["v"] = ts.get_variable("v", [])
                    else:
                        with pytest.raises(ts.VariableExistsError,
                                           match=r"^Variable foo/v already exists"):
                            ts.get_variable("v", [])
                    pause_events[i].set()
                    assert run_events[i].wait(TIMEOUT)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
            pause_events[i].set()

    threads = [threading.Thread(target=thread_fn, args=(i,)) for i in range(2)]
    threads[0].start()
    assert pause_events[0].wait(TIMEOUT)
    threads[1].start()          # thread 0 is still inside "foo"
    assert pause_events[1].wait(TIMEOUT)
    for event in run_events:
        event.set()
    for thread in threads:
        thread.join(TIMEOUT)
    if errors:
        raise errors[0]
    assert seen[0] == ("foo", "foo/")
    assert seen[1] == ("foo", "foo_1/")
    assert store.name_of(seen["v"]) == "foo/v"
    assert len(store) == 1


# --------------------------------------------------------------------------- case 112

def test_thread_reenters_main_threads_scope_by_object_and_otherwise_starts_at_root(store):
    """§3.11 case 112: a thread entering the main thread's scope object gets ``main/foo/v``;
    outside it, ``bar/v`` (the thread started at the root, not inside ``main``)."""
    seen = {}

    def thread_fn(main_thread_scope):
        with store.as_default():
            with ts.variable_scope(main_thread_scope):
                with ts.variable_scope("foo"):
                    seen["inner"] = ts.get_variable("v", [])
            with ts.variable_scope("bar"):
                seen["outer"] = ts.get_variable("v", [])

    with ts.variable_scope("main") as main_thread_scope:
        run_threads([lambda: thread_fn(main_thread_scope)])
    assert store.name_of(seen["inner"]) == "main/foo/v"
    assert store.name_of(seen["outer"]) == "bar/v"


# --------------------------------------------------------------------------- acceptance

NAMES = [f"w{i}" for i in range(12)]


@pytest.mark.parametrize("round_", range(10))
def test_racing_threads_under_auto_reuse_get_one_parameter_per_name(round_,
                                                                   frequent_thread_switches):
    """Acceptance (§3.11): 8 threads released together by a barrier create the same names under
    ``AUTO_REUSE``; every thread gets the same object per name and the store holds exactly one
    parameter per name."""
    store = ts.ScopedParameterStore()
    n_threads = 8
    barrier = threading.Barrier(n_threads, timeout=TIMEOUT)
    got = [dict() for _ in range(n_threads)]

    def thread_fn(i):
        with store.as_default():
            with ts.variable_scope("shared", reuse=ts.AUTO_REUSE):
                barrier.wait()
                for name in NAMES:
                    got[i][name] = ts.get_variable(name, [4])

    run_threads([lambda i=i: thread_fn(i) for i in range(n_threads)])
    assert len(store) == len(NAMES)
    assert list(store) == [f"shared/{name}" for name in NAMES]
    for name in NAMES:
        first = got[0][name]
        assert isinstance(first, torch.nn.Parameter)
        assert all(got[i][name] is first for i in range(n_threads))
        assert store[f"shared/{name}"] is first
    assert len(store.trainable_variables()) == len(NAMES)


def test_racing_threads_without_reuse_create_once_and_the_rest_raise(frequent_thread_switches):
    """Acceptance (§3.11): racing creations without reuse: exactly one thread creates
    ``foo/v``; the other 7 get "already exists" (check-and-create is atomic)."""
    store = ts.ScopedParameterStore()
    n_threads = 8
    barrier = threading.Barrier(n_threads, timeout=TIMEOUT)
    created, refused = [], []

    def thread_fn():
        with store.as_default():
            with ts.variable_scope("foo"):
                barrier.wait()
                try:
                    created.append(ts.get_variable("v", [3]))
                except ts.VariableExistsError as exc:
                    refused.append(exc)

    run_threads([thread_fn] * n_threads)
    assert len(created) == 1 and len(refused) == n_threads - 1
    assert all("Variable foo/v already exists" in str(exc) for exc in refused)
    assert store["foo/v"] is created[0] and len(store) == 1


# --------------------------------------------------------------------------- new threads

def test_new_thread_starts_at_root_scope_of_its_store(store):
    """§3.11 (§1.1): a new thread starts at the root: empty variable and name scopes, reuse
    False even when the main thread's root was made reusing, and its own ``default_name``
    counters (TF verified: ``d`` again while the main thread is inside ``d``)."""
    ts.get_variable_scope().reuse_variables()      # the main thread's root, in this store only
    seen = {}

    def thread_fn():
        with store.as_default():
            root = ts.get_variable_scope()
            seen["root"] = (root.name, root.reuse, ts.get_name_scope())
            with ts.variable_scope(None, default_name="d") as d:
                seen["d"] = d.name
            seen["x"] = ts.get_variable("x", [1])     # created: the thread's root does not reuse

    with ts.variable_scope(None, default_name="d"):
        with ts.variable_scope("main", reuse=True):
            with ts.name_scope("ns"):
                run_threads([thread_fn])
                assert ts.get_name_scope() == "d/main/ns"
    assert seen["root"] == ("", False, "")
    assert seen["d"] == "d"
    assert store.name_of(seen["x"]) == "x"
    assert ts.get_variable_scope().reuse is True


def test_new_thread_uses_process_default_store_not_callers(store):
    """§3.11 (§1.1): like TF's default-graph stack, ``store.as_default()`` does not carry into
    a new thread (TF verified: ``get_default_graph()`` there is the global one)."""
    seen = {}

    def thread_fn():
        seen["store"] = ts.get_default_store()
        seen["scope"] = ts.get_variable_scope().name

    with ts.variable_scope("outer"):
        run_threads([thread_fn])
    assert seen["store"] is not store
    assert seen["scope"] == ""
