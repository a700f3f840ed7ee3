"""TF1 conformance §3.9: custom getters and variable creators (cases 90–100).

A custom getter is ``getter_fn(getter, name, *args, **kwargs)``; whatever it returns is what
``ts.get_variable`` returns, and the store only holds what the true getter created. Where TF
observed op names (``tf.constant(0., name=n).name``), these tests open ``ts.name_scope(n)``,
which shares TF's uniquification registry.
"""

import pytest
import torch

import torchscope as ts

SYNC = ts.VariableSynchronization
AGG = ts.VariableAggregation


def names(store, variables):
    return [store.name_of(v) for v in variables]


def renaming_getter(tag, order):
    """A getter that records that it ran and appends ``_tag`` to the name it forwards."""
    def getter_fn(getter, name, *args, **kwargs):
        order.append(tag)
        return getter(name + "_" + tag, *args, **kwargs)
    return getter_fn


# --------------------------------------------------------------------------- case 90

def test_non_callable_scope_getter_raises_at_get_variable_time(store):
    """§3.9 case 90: a non-callable scope getter is accepted by ``variable_scope`` and rejected
    by ``get_variable``, with nothing created."""
    with ts.variable_scope("scope0", custom_getter=3):
        with pytest.raises(ts.CustomGetterError,
                           match=r"^Passed a custom_getter which is not callable: 3"):
            ts.get_variable("name0")
    assert len(store) == 0


def test_non_callable_argument_getter_raises(store):
    """§3.9 case 90: ``get_variable(..., custom_getter=3)`` raises the same ValueError."""
    with ts.variable_scope("scope0"):
        with pytest.raises(ValueError, match=r"custom_getter .* not callable: 3"):
            ts.get_variable("name0", custom_getter=3)
    assert len(store) == 0


def test_non_callable_getter_set_on_scope_raises(store):
    """§3.9 case 90: ``set_custom_getter(3)`` on the current scope fails the same way."""
    with ts.variable_scope("scope0") as scope:
        scope.set_custom_getter(3)
        with pytest.raises(ts.CustomGetterError, match=r"not callable: 3"):
            ts.get_variable("name0", [1])
    assert len(store) == 0


# --------------------------------------------------------------------------- case 91

def test_identity_getter_has_no_side_effects_and_runs_on_every_call(store):
    """§3.9 case 91: an identity getter is called on creation and on reuse (3 calls) and
    changes nothing: same objects, two variables, TF's names."""
    calls = []

    def counting_getter(getter, *args, **kwargs):
        calls.append(kwargs.get("name", args[0] if args else None))
        return getter(*args, **kwargs)

    with ts.variable_scope("scope", custom_getter=counting_getter) as scope:
        v = ts.get_variable("v", [1])
    with ts.variable_scope(scope, reuse=True):
        v2 = ts.get_variable("v", [1])
    with ts.variable_scope("new_scope") as new_scope:
        v3 = ts.get_variable("v3", [1])
    with ts.variable_scope(new_scope, reuse=True, custom_getter=counting_getter):
        v4 = ts.get_variable("v3", [1])
    assert v is v2
    assert v3 is v4
    assert len(calls) == 3
    assert list(store) == ["scope/v", "new_scope/v3"]


# --------------------------------------------------------------------------- case 92

def test_getter_sees_default_synchronization_and_aggregation(store):
    """§3.9 case 92: by default the getter sees ``synchronization=AUTO``,
    ``aggregation=NONE``."""
    seen = []

    def getter_fn(getter, *args, **kwargs):
        seen.append((kwargs["synchronization"], kwargs["aggregation"]))
        return getter(*args, **kwargs)

    with ts.variable_scope("scope", custom_getter=getter_fn):
        ts.get_variable("v", [1])
    assert seen == [(SYNC.AUTO, AGG.NONE)]


def test_getter_sees_passed_synchronization_aggregation_and_resolved_trainable(store):
    """§3.9 case 92: ``ON_READ``/``MEAN`` reach the getter, and ``trainable`` arrives already
    resolved (False for ON_READ)."""
    seen = []

    def getter_fn(getter, *args, **kwargs):
        seen.append((kwargs["synchronization"], kwargs["aggregation"], kwargs["trainable"]))
        return getter(*args, **kwargs)

    with ts.variable_scope("scope", custom_getter=getter_fn):
        v = ts.get_variable("v", [1], synchronization=SYNC.ON_READ, aggregation=AGG.MEAN)
    assert seen == [(SYNC.ON_READ, AGG.MEAN, False)]
    assert v.requires_grad is False


# --------------------------------------------------------------------------- case 93

def test_getter_sees_scope_reuse_and_its_result_is_returned(store):
    """§3.9 case 93: the getter sees the scope's reuse (False, then True on re-entry with
    reuse) and what it returns — here a derived tensor, as TF's ``identity`` — is what
    ``get_variable`` returns."""
    seen = []

    def getter_fn(getter, *args, **kwargs):
        seen.append(kwargs["reuse"])
        return getter(*args, **kwargs) * 1.0

    with ts.variable_scope("scope", custom_getter=getter_fn) as scope:
        first = ts.get_variable("v", [1])
    with ts.variable_scope(scope, reuse=True):
        second = ts.get_variable("v", [1])
    assert seen == [False, True]
    assert not isinstance(first, torch.nn.Parameter)
    assert torch.equal(first, store["scope/v"].detach())
    assert first.grad_fn is not None and second.grad_fn is not None
    assert len(store) == 1


def test_getter_sees_auto_reuse(store):
    """§3.9 case 93: under ``AUTO_REUSE`` the getter is passed ``ts.AUTO_REUSE`` itself."""
    seen = []

    def getter_fn(getter, *args, **kwargs):
        seen.append(kwargs["reuse"])
        return getter(*args, **kwargs)

    with ts.variable_scope("scope", custom_getter=getter_fn, reuse=ts.AUTO_REUSE):
        ts.get_variable("v", [1])
    assert len(seen) == 1 and seen[0] is ts.AUTO_REUSE


# --------------------------------------------------------------------------- case 94

def _sum_of_two_getter(scope_names):
    def getter_fn(getter, name, *args, **kwargs):
        g_0 = getter("%s/0" % name, *args, **kwargs)
        g_1 = getter("%s/1" % name, *args, **kwargs)
        with ts.name_scope("custom_getter") as opened:
            scope_names.append(opened)
            return g_0 + g_1
    return getter_fn


def test_getter_creating_two_variables_returns_their_sum(store):
    """§3.9 case 94: a getter that creates ``v/0`` and ``v/1`` and returns their sum: the
    result has the requested shape and value, and exactly those two are trainable."""
    with ts.variable_scope("scope", custom_getter=_sum_of_two_getter([])):
        v = ts.get_variable("v", [1, 2, 3])
    assert tuple(v.shape) == (1, 2, 3)
    true_vars = ts.trainable_variables()
    assert names(store, true_vars) == ["scope/v/0", "scope/v/1"]
    assert torch.equal(v.detach(), (true_vars[0] + true_vars[1]).detach())
    v.sum().backward()
    assert all(torch.equal(t.grad, torch.ones(1, 2, 3)) for t in true_vars)


def test_getter_runs_at_the_root_name_scope(store):
    """§3.9 case 94: TF runs ``get_variable`` (and so the getter) under ``name_scope(None)``:
    the getter's ``custom_getter`` name scope is at the root (TF: op ``custom_getter/add:0``),
    whatever name scope the caller is in."""
    opened = []
    with ts.variable_scope("scope", custom_getter=_sum_of_two_getter(opened)):
        with ts.name_scope("ns"):
            ts.get_variable("v", [1, 2, 3])
            after = ts.get_name_scope()
    assert opened == ["custom_getter/"]
    assert after == "scope/ns"


def test_variable_created_inside_getter_is_named_at_the_root(store):
    """§3.9 case 94 (TF, verified): a ``Variable`` made by a getter is named at the root name
    scope (``extra``), since the getter runs under ``name_scope(None)``."""
    made = []

    def getter_fn(getter, name, *args, **kwargs):
        made.append(ts.Variable(torch.zeros(1), name="extra", trainable=False))
        return getter(name, *args, **kwargs)

    with ts.variable_scope("scope", custom_getter=getter_fn):
        with ts.name_scope("ns"):
            ts.get_variable("v", [1])
    assert store.name_of(made[0]) == "extra"


# --------------------------------------------------------------------------- case 95

def test_nested_getters_compose_inner_first(store):
    """§3.9 case 95: prod(sum(sum(...))) getters over three scopes create 8 variables named
    ``.../v/sum_i/sum_j/prod_k`` in (i, j, k) binary order, and the value is
    ``(v0*v1 + v2*v3) + (v4*v5 + v6*v7)``."""
    def sum_getter(getter, name, *args, **kwargs):
        g_0 = getter("%s/sum_0" % name, *args, **kwargs)
        g_1 = getter("%s/sum_1" % name, *args, **kwargs)
        return g_0 + g_1

    def prod_getter(getter, name, *args, **kwargs):
        g_0 = getter("%s/prod_0" % name, *args, **kwargs)
        g_1 = getter("%s/prod_1" % name, *args, **kwargs)
        return g_0 * g_1

    with ts.variable_scope("prod_scope", custom_getter=prod_getter):
        with ts.variable_scope("sum_scope", custom_getter=sum_getter):
            with ts.variable_scope("inner_sum_scope", custom_getter=sum_getter):
                v = ts.get_variable("v", [1, 2, 3])
    assert tuple(v.shape) == (1, 2, 3)
    true_vars = ts.trainable_variables()
    template = "prod_scope/sum_scope/inner_sum_scope/v/sum_%d/sum_%d/prod_%d"
    assert names(store, true_vars) == [template % (i, j, k)
                                       for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    t = [x.detach() for x in true_vars]
    expected = (t[0] * t[1] + t[2] * t[3]) + (t[4] * t[5] + t[6] * t[7])
    assert torch.allclose(v.detach(), expected)


# --------------------------------------------------------------------------- cases 96–98

def test_scope_getters_chain_innermost_first(store):
    """§3.9 case 96: inner getter ``_i`` runs before outer ``_o``; names compose
    ``v_i_o``."""
    order = []
    with ts.variable_scope("outer", custom_getter=renaming_getter("o", order)):
        with ts.variable_scope("inner", custom_getter=renaming_getter("i", order)):
            v = ts.get_variable("v", [1])
    assert order == ["i", "o"]
    assert store.name_of(v) == "outer/inner/v_i_o"


def test_argument_getter_replaces_scope_getters(store):
    """§3.9 case 97: ``get_variable(..., custom_getter=arg)`` replaces the scope chain; the
    scope getters do not run."""
    order = []
    with ts.variable_scope("outer", custom_getter=renaming_getter("o", order)):
        with ts.variable_scope("inner", custom_getter=renaming_getter("i", order)):
            v = ts.get_variable("v", [1], custom_getter=renaming_getter("arg", order))
    assert order == ["arg"]
    assert store.name_of(v) == "outer/inner/v_arg"


def test_reentry_by_object_chains_new_getter_before_captured(store):
    """§3.9 case 98: re-entering scope ``a`` (getter A) by object with getter B runs B, then
    A."""
    order = []
    with ts.variable_scope("a", custom_getter=renaming_getter("A", order)) as a:
        pass
    with ts.variable_scope(a, custom_getter=renaming_getter("B", order)):
        v = ts.get_variable("v", [1])
    assert order == ["B", "A"]
    assert store.name_of(v) == "a/v_B_A"


# --------------------------------------------------------------------------- case 99

def test_getter_kwargs_are_exactly_tf1s(store):
    """§3.9 case 99: a ``**kwargs`` getter in ``s`` sees exactly TF1's keyword arguments
    (``getter`` included, nothing positional), with the resolved values."""
    seen = {}

    def getter_fn(*args, **kwargs):
        assert args == ()
        seen.update(kwargs)
        forward = dict(kwargs)
        return forward.pop("getter")(**forward)

    with ts.variable_scope("s", custom_getter=getter_fn):
        ts.get_variable("v", [1])
    getter = seen.pop("getter")
    assert callable(getter)
    assert seen == {
        "aggregation": AGG.NONE, "caching_device": None, "collections": None,
        "constraint": None, "dtype": torch.float32, "initializer": None, "name": "s/v",
        "partitioner": None, "regularizer": None, "reuse": False, "shape": [1],
        "synchronization": SYNC.AUTO, "trainable": True, "use_resource": None,
        "validate_shape": True}


def test_getter_without_constraint_parameter_is_called_without_it(store):
    """§3.9 case 99: a getter with neither a ``constraint`` parameter nor ``**kwargs`` is
    called without ``constraint`` (no TypeError); the constraint is then dropped, as in TF."""
    def constraint(w):
        return w.clamp(0, 1)

    def getter_fn(getter, name, shape, dtype, initializer, regularizer, reuse, trainable,
                  collections, caching_device, partitioner, validate_shape, use_resource,
                  synchronization, aggregation):
        return getter(name=name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, reuse=reuse, trainable=trainable,
                      collections=collections, caching_device=caching_device,
                      partitioner=partitioner, validate_shape=validate_shape,
                      use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)

    with ts.variable_scope("s", custom_getter=getter_fn):
        v = ts.get_variable("v", [1], constraint=constraint)
    assert store.name_of(v) == "s/v"
    assert store.record_of(v).constraint is None


def test_getter_with_constraint_parameter_receives_it(store):
    """§3.9 case 99: a getter naming ``constraint`` receives it and can pass it on."""
    seen = []

    def constraint(w):
        return w.clamp(0, 1)

    def getter_fn(getter, name, *args, constraint=None, **kwargs):
        seen.append(constraint)
        return getter(name, *args, constraint=constraint, **kwargs)

    with ts.variable_scope("t", custom_getter=getter_fn):
        w = ts.get_variable("w", [1], constraint=constraint)
    assert seen == [constraint]
    assert store.record_of(w).constraint is constraint


# --------------------------------------------------------------------------- case 100

def test_variable_creators_run_innermost_first_and_see_forced_name(store):
    """§3.9 case 100: with ``creator_a`` outside ``creator_b``, b runs first and its forced
    name is what a sees and what the variable is called."""
    seen_names, order = [], []

    def creator_a(next_creator, **kwargs):
        order.append("a")
        seen_names.append(kwargs.get("name", ""))
        return next_creator(**kwargs)

    def creator_b(next_creator, **kwargs):
        order.append("b")
        kwargs["name"] = "forced_name"
        return next_creator(**kwargs)

    with ts.variable_creator_scope(creator_a):
        with ts.variable_creator_scope(creator_b):
            v = ts.Variable(1.0, name="one_name")
    assert order == ["b", "a"]
    assert seen_names == ["forced_name"]
    assert store.name_of(v) == "forced_name"


def test_get_variable_passes_synchronization_and_aggregation_to_creators(store):
    """§3.9 case 100: ``get_variable`` hands its synchronization/aggregation and full name to
    creators, which run on creation only (not on reuse)."""
    calls = []

    def creator_c(next_creator, **kwargs):
        calls.append(kwargs)
        return next_creator(**kwargs)

    with ts.variable_creator_scope(creator_c):
        with ts.variable_scope("s"):
            v = ts.get_variable("v", [], synchronization=SYNC.ON_WRITE, aggregation=AGG.MEAN)
        with ts.variable_scope("s", reuse=True):
            assert ts.get_variable("v", []) is v
    assert len(calls) == 1
    kwargs = calls[0]
    assert kwargs["synchronization"] is SYNC.ON_WRITE
    assert kwargs["aggregation"] is AGG.MEAN
    assert kwargs["name"] == "s/v"
    assert kwargs["trainable"] is True
    assert {"initial_value", "name", "trainable", "collections", "caching_device", "dtype",
            "constraint", "synchronization", "aggregation", "validate_shape",
            "use_resource"} <= set(kwargs)
