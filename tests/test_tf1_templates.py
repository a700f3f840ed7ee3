"""TF1 conformance §3.12: ``make_template`` (cases 113–136).

Mostly ports of TF's ``template_test.py``. Where TF observed op names
(``(x + b).name == "foo/add:0"``), these tests open ``ts.name_scope("add")`` at the same point:
name scopes and ops share TF's uniquification registry, so ``s[:-1]`` is the op name TF would
print (without ``:0``).
"""

import pytest
import torch

import torchscope as ts


def variable_scoped_function(trainable=True):
    return ts.get_variable("dummy", shape=[1], trainable=trainable,
                           initializer=ts.zeros_initializer())


def internally_variable_scoped_function(scope_name):
    with ts.variable_scope(scope_name):
        return ts.get_variable("dummy", shape=[1], initializer=ts.zeros_initializer())


def function_with_create(trainable):
    """Creates a variable as a side effect using ``ts.Variable``."""
    ts.Variable(0, trainable=trainable)
    return ts.get_variable("dummy", shape=[1], initializer=ts.zeros_initializer())


def function_with_side_create(trainable, name="side"):
    """Creates a variable as a side effect using ``ts.get_variable``."""
    ts.get_variable(name, [], trainable=trainable)
    return ts.get_variable("dummy", shape=[1], initializer=ts.zeros_initializer())


def op_name(name):
    """The name TF would give an op ``name`` created here (its name scope, without "/")."""
    with ts.name_scope(name) as scope:
        return scope[:-1]


# --------------------------------------------------------------------------- cases 113–116

def test_templates_with_same_name_get_unique_scopes_and_share_within(store):
    """§3.12 case 113: ``t1() is t1()``; a second template ``s1`` is ``s1_1``."""
    tmpl1 = ts.make_template("s1", variable_scoped_function)
    tmpl2 = ts.make_template("s1", variable_scoped_function)
    v1 = tmpl1()
    v2 = tmpl1()
    v3 = tmpl2()
    assert v1 is v2
    assert v1 is not v3
    assert store.name_of(v1) == "s1/dummy"
    assert store.name_of(v3) == "s1_1/dummy"


def test_same_unique_name_twice_raises_already_exists_with_definition_site(store):
    """§3.12 case 114: ``unique_name_`` is used verbatim, so a second template with the same
    one re-creates ``s1/dummy``; the error carries TF's "originally defined at:" suffix."""
    ts.make_template("_", variable_scoped_function, unique_name_="s1")()
    tmpl = ts.make_template("_", variable_scoped_function, unique_name_="s1")
    with pytest.raises(ts.VariableExistsError,
                       match=r"(?s)^Variable s1/dummy already exists, disallowed\..*"
                             r"\n\noriginally defined at:\n.*test_tf1_templates\.py"):
        tmpl()


def test_unique_name_is_accepted_where_tf_eager_would_refuse_it(store):
    """§3.12 case 115, restated: TF rejects ``unique_name_`` only under eager execution (T3).
    torchscope has no eager/graph split — it follows TF1's graph-mode rules everywhere,
    ``ScopedModule`` passes included — so ``unique_name_`` names the template's scope verbatim
    (not uniquified), in a pass as outside one."""
    tmpl = ts.make_template("_", variable_scoped_function, unique_name_="s1")
    assert store.name_of(tmpl()) == "s1/dummy"

    def forward(x):
        return x * ts.make_template("_", variable_scoped_function, unique_name_="u")()

    net = ts.ScopedModule.wrap(forward)
    net(torch.ones(1))
    net(torch.ones(1))
    assert [name for name, _ in net.named_parameters()] == ["u/dummy"]


def test_same_unique_name_with_root_reuse_shares_the_variable(store):
    """§3.12 case 116: after the root's ``reuse_variables()``, a second template with unique
    name ``s1`` returns the first one's ``s1/dummy``."""
    tmpl1 = ts.make_template("_", variable_scoped_function, unique_name_="s1")
    tmpl1()
    v1 = tmpl1()
    ts.get_variable_scope().reuse_variables()
    tmpl2 = ts.make_template("_", variable_scoped_function, unique_name_="s1")
    v2 = tmpl2()
    assert v1 is v2
    assert store.name_of(v1) == "s1/dummy"


# --------------------------------------------------------------------------- cases 117–120

def test_template_scope_is_captured_at_first_call_site(store):
    """§3.12 case 117: the scope is captured where the template is first called: called later
    in ``scope2``, ``t1`` still returns ``scope/s1/dummy``."""
    tmpl1 = ts.make_template("s1", variable_scoped_function)
    tmpl2 = ts.make_template("s1", variable_scoped_function)
    with ts.variable_scope("scope"):
        v1 = tmpl1()
        v3 = tmpl2()
    with ts.variable_scope("scope2"):
        v2 = tmpl1()
    assert v1 is v2
    assert v1 is not v3
    assert store.name_of(v1) == "scope/s1/dummy"
    assert store.name_of(v3) == "scope/s1_1/dummy"


def test_template_with_internal_scope_reuses_and_rejects_new_scope(store):
    """§3.12 case 118: a body opening ``variable_scope(name)``: same name reuses; a new name on
    a later call raises "does not exist" with the definition-site suffix."""
    tmpl1 = ts.make_template("s1", internally_variable_scoped_function)
    tmpl2 = ts.make_template("s1", internally_variable_scoped_function)
    v1 = tmpl1("test")
    v2 = tmpl1("test")
    v3 = tmpl2("test")
    assert v1 is v2
    assert v1 is not v3
    assert store.name_of(v1) == "s1/test/dummy"
    assert store.name_of(v3) == "s1_1/test/dummy"
    with pytest.raises(ts.VariableNotFoundError,
                       match=r"(?s)^Variable s1/not_test/dummy does not exist.*"
                             r"\n\noriginally defined at:\n"):
        tmpl1("not_test")


def test_make_template_without_name_raises():
    """§3.12 case 119 (T1)."""
    with pytest.raises(ts.TemplateError, match=r"^name cannot be None\."):
        ts.make_template(None, variable_scoped_function)


def test_make_template_binds_keyword_arguments(store):
    """§3.12 case 120: extra keyword arguments are bound to the function."""
    tmpl1 = ts.make_template("s1", internally_variable_scoped_function, scope_name="test")
    tmpl2 = ts.make_template("s1", internally_variable_scoped_function, scope_name="test")
    v1 = tmpl1()
    v2 = tmpl1()
    v3 = tmpl2()
    assert v1 is v2
    assert v1 is not v3
    assert store.name_of(v1) == "s1/test/dummy"
    assert store.name_of(v3) == "s1_1/test/dummy"


# --------------------------------------------------------------------------- cases 121–123

def test_new_trainable_variable_on_later_call_raises(store):
    """§3.12 case 121 (T2 + T4): a ``ts.Variable(trainable=True)`` in the body is fine on the
    first call and an error on the second, naming the new variable (``s_1/Variable``: the
    second call's name scope)."""
    tmpl = ts.make_template("s", function_with_create, trainable=True)
    tmpl()
    with pytest.raises(ts.TemplateError, match=(
            r"(?s)^Trainable variable created when calling a template after the first time, "
            r"perhaps you used ts\.Variable when you meant ts\.get_variable: \[.*'s_1/Variable'"
            r".*\n\noriginally defined at:\n")):
        tmpl()


def test_new_get_variable_name_on_later_call_raises_does_not_exist(store):
    """§3.12 case 122: graph mode: a new ``get_variable`` name on a later call fails earlier,
    with "does not exist" (later calls reuse)."""
    tmpl = ts.make_template("s", function_with_side_create, trainable=True)
    tmpl(name="1")
    with pytest.raises(ts.VariableNotFoundError, match=r"^Variable s/2 does not exist"):
        tmpl(name="2")


def test_new_non_trainable_variable_on_later_call_is_allowed(store):
    """§3.12 case 123: a non-trainable ``ts.Variable`` per call is allowed (TF only logs it);
    the shared variable is the same object (TF verified names ``s/Variable``, ``s_1/Variable``)."""
    tmpl = ts.make_template("s", function_with_create, trainable=False)
    assert tmpl() is tmpl()
    assert list(store) == ["s/Variable", "s/dummy", "s_1/Variable"]


# --------------------------------------------------------------------------- cases 124–125

def test_internal_scope_reentered_by_object_with_reuse(store):
    """§3.12 case 124: inside the body, ``variable_scope(nested, reuse=True)`` returns the
    variable just made in ``nested``."""
    def nested():
        with ts.variable_scope("nested") as vs:
            v1 = ts.get_variable("x", initializer=ts.zeros_initializer(), shape=[])
        with ts.variable_scope(vs, reuse=True):
            v2 = ts.get_variable("x")
        assert v1 is v2
        return v1

    tmpl1 = ts.make_template("s1", nested)
    tmpl2 = ts.make_template("s1", nested)
    v1 = tmpl1()
    v2 = tmpl1()
    v3 = tmpl2()
    assert v1 is v2
    assert v1 is not v3
    assert store.name_of(v1) == "s1/nested/x"
    assert store.name_of(v3) == "s1_1/nested/x"


def _same_objects(left, right):
    return len(left) == len(right) and all(a is b for a, b in zip(left, right))


def test_nested_templates_are_isolated_and_reused(store):
    """§3.12 case 125: templates made inside a template body get ``nested``, ``nested_1`` on
    every call (counters restart), so the outer template reuses them; each nested template
    sees only its own variables."""
    def nested_template():
        nested1 = ts.make_template("nested", variable_scoped_function)
        nested2 = ts.make_template("nested", variable_scoped_function)
        v1 = nested1()
        v2 = nested2()
        assert v1 is not v2
        assert _same_objects(nested1.variables, [v1])
        assert _same_objects(nested2.variables, [v2])
        assert _same_objects(nested1.trainable_variables, [v1])
        assert _same_objects(nested2.trainable_variables, [v2])
        assert nested1.non_trainable_variables == []
        assert nested2.non_trainable_variables == []
        return v1, v2

    tmpl1 = ts.make_template("s1", nested_template)
    tmpl2 = ts.make_template("s1", nested_template)
    v1, v2 = tmpl1()
    v3, v4 = tmpl1()
    v5, v6 = tmpl2()
    assert v1 is v3 and v2 is v4
    assert _same_objects(tmpl1.variables, [v1, v2])
    assert _same_objects(tmpl1.trainable_variables, [v1, v2])
    assert tmpl1.non_trainable_variables == []
    assert v1 is not v5 and v2 is not v6
    assert _same_objects(tmpl2.variables, [v5, v6])
    assert _same_objects(tmpl2.trainable_variables, [v5, v6])
    assert tmpl2.non_trainable_variables == []
    assert [store.name_of(v) for v in (v1, v2, v5, v6)] == [
        "s1/nested/dummy", "s1/nested_1/dummy", "s1_1/nested/dummy", "s1_1/nested_1/dummy"]


# --------------------------------------------------------------------------- cases 126–129

def test_immediate_scope_is_captured_at_construction_deferred_at_first_call(store):
    """§3.12 case 126: ``create_scope_now_=True`` captures ``ctor_scope/a``; the default
    captures the first call's ``call_scope/b``; both are reused when called at the root."""
    with ts.variable_scope("ctor_scope"):
        tmpl_immed = ts.make_template("a", variable_scoped_function, True)
        tmpl_defer = ts.make_template("b", variable_scoped_function, False)
    with ts.variable_scope("call_scope"):
        inner_imm_var = tmpl_immed()
        inner_defer_var = tmpl_defer()
    outer_imm_var = tmpl_immed()
    outer_defer_var = tmpl_defer()
    assert inner_imm_var is not inner_defer_var
    assert outer_imm_var is inner_imm_var
    assert outer_defer_var is inner_defer_var
    assert store.name_of(inner_imm_var) == "ctor_scope/a/dummy"
    assert store.name_of(inner_defer_var) == "call_scope/b/dummy"


def test_template_variable_scope_is_available_before_call_only_if_created_now(store):
    """§3.12 case 127: immediate templates expose uniquified scopes (``foo/bar``,
    ``foo/bar_1``) before any call; a deferred one has None until called (then ``blah``,
    where it was called)."""
    with ts.variable_scope("foo"):
        ta = ts.make_template("bar", variable_scoped_function, True)
        tb = ts.make_template("bar", variable_scoped_function, True)
    assert ta.variable_scope.name == "foo/bar"
    assert tb.variable_scope.name == "foo/bar_1"
    with ts.variable_scope("foo_2"):
        tc = ts.make_template("blah", variable_scoped_function, False)
    assert tc.variable_scope is None
    tc()
    assert tc.variable_scope.name == "blah"


@pytest.mark.parametrize("create_scope_now", [False, True], ids=["deferred", "immediate"])
def test_template_custom_getter_runs_on_every_call(store, create_scope_now):
    """§3.12 case 128: ``custom_getter_`` is called on creation and on every reuse (0, 1, 2),
    whichever way the scope is created."""
    count = [0]

    def custom_getter(getter, name, *args, **kwargs):
        count[0] += 1
        return getter(name, *args, **kwargs)

    tmpl = ts.make_template("s1", variable_scoped_function, custom_getter_=custom_getter,
                            create_scope_now_=create_scope_now)
    assert count[0] == 0
    first = tmpl()
    assert count[0] == 1
    assert tmpl() is first
    assert count[0] == 2


@pytest.mark.parametrize("create_scope_now", [True, False], ids=["immediate", "deferred"])
def test_template_failed_first_call_creates_on_next_call(store, create_scope_now):
    """§3.12 case 129: a first call that raises (an unsupported keyword) creates nothing and
    leaves the template unbuilt, so the next correct call creates ``f1/w``."""
    def module_function_with_one_arg(inputs):
        w = ts.get_variable("w", shape=[1], initializer=ts.zeros_initializer())
        return inputs * w

    tmpl = ts.make_template("f1", module_function_with_one_arg,
                            create_scope_now_=create_scope_now)
    data = torch.zeros([1])
    with pytest.raises(TypeError, match=r"(?s)unexpected keyword argument 'is_training'.*"
                                        r"\n\noriginally defined at:\n"):
        tmpl(data, is_training=True)
    assert tmpl.variables == []
    assert len(store) == 0
    tmpl(data)
    assert [store.name_of(v) for v in tmpl.variables] == ["f1/w"]


# --------------------------------------------------------------------------- case 130

def _linear_module(x, output_size):
    w = ts.get_variable("w", shape=[x.shape[1], output_size],
                        initializer=ts.zeros_initializer())
    b = ts.get_variable("b", shape=[output_size], initializer=ts.zeros_initializer())
    output = x @ w + b
    return output, op_name("add"), w


def test_immediate_templates_get_a_fresh_name_scope_per_call(store):
    """§3.12 case 130: with ``create_scope_now_=True`` the first call's ops share the
    variables' name scope (``foo/add``), the second gets ``foo_1/add``; a second template
    ``foo`` gets variable scope ``foo_1`` and ops ``foo_1_1/add``, ``foo_1_2/add``."""
    inputs = torch.ones(3, 4)
    linear1 = ts.make_template("foo", _linear_module, output_size=2, create_scope_now_=True)
    _, add_a, w1 = linear1(inputs)
    _, add_b, _ = linear1(inputs)
    assert linear1.variable_scope.name == "foo"
    assert store.name_of(w1) == "foo/w"
    assert (add_a, add_b) == ("foo/add", "foo_1/add")

    linear2 = ts.make_template("foo", _linear_module, output_size=2, create_scope_now_=True)
    _, add_c, w2 = linear2(inputs)
    _, add_d, _ = linear2(inputs)
    assert linear2.variable_scope.name == "foo_1"
    assert store.name_of(w2) == "foo_1/w"
    assert (add_c, add_d) == ("foo_1_1/add", "foo_1_2/add")

    # TF verified: a deferred template "foo" made afterwards gets scope foo_2 and ops in
    # foo_2/ then foo_2_1/.
    linear3 = ts.make_template("foo", _linear_module, output_size=2)
    _, add_e, w3 = linear3(inputs)
    _, add_f, _ = linear3(inputs)
    assert linear3.variable_scope.name == "foo_2"
    assert store.name_of(w3) == "foo_2/w"
    assert (add_e, add_f) == ("foo_2/add", "foo_2_1/add")


def test_deferred_template_first_call_name_scope_matches_variable_scope(store):
    """§3.12 case 130 (TF verified): a deferred template alone: ``foo/add``, then
    ``foo_1/add``, variables in ``foo``."""
    linear = ts.make_template("foo", _linear_module, output_size=2)
    _, add_a, w = linear(torch.ones(3, 4))
    _, add_b, _ = linear(torch.ones(3, 4))
    assert store.name_of(w) == "foo/w"
    assert (add_a, add_b) == ("foo/add", "foo_1/add")


# --------------------------------------------------------------------------- case 131

def test_template_variable_properties(store):
    """§3.12 case 131: all empty before the first call; then trainable ``[t/a]``, global
    ``[t/a, t/b]``, non-trainable ``[t/b]``, local ``[t/l]``, variables = global + local."""
    def body():
        ts.get_variable("a", [])
        ts.get_variable("b", [], trainable=False)
        ts.get_local_variable("l", [])

    tmpl = ts.make_template("t", body)
    assert (tmpl.trainable_variables, tmpl.global_variables, tmpl.non_trainable_variables,
            tmpl.local_variables, tmpl.variables) == ([], [], [], [], [])
    tmpl()

    def names(variables):
        return [store.name_of(v) for v in variables]

    assert names(tmpl.trainable_variables) == ["t/a"]
    assert names(tmpl.global_variables) == ["t/a", "t/b"]
    assert names(tmpl.non_trainable_variables) == ["t/b"]
    assert names(tmpl.local_variables) == ["t/l"]
    assert names(tmpl.variables) == ["t/a", "t/b", "t/l"]
    assert names(tmpl.weights) == names(tmpl.variables)
    assert names(tmpl.trainable_weights) == ["t/a"]
    assert names(tmpl.non_trainable_weights) == ["t/b"]


# --------------------------------------------------------------------------- cases 132–135

def test_first_call_inside_reuse_true_scope_raises_does_not_exist(store):
    """§3.12 case 132: the first call inherits the enclosing ``reuse=True``, so creating
    ``s/t/w`` fails, with the definition-site suffix."""
    tmpl = ts.make_template("t", lambda: ts.get_variable("w", [1]))
    with ts.variable_scope("s", reuse=True):
        with pytest.raises(ts.VariableNotFoundError,
                           match=r"(?s)^Variable s/t/w does not exist, or was not created with "
                                 r"ts\.get_variable\(\)\..*\n\noriginally defined at:\n"):
            tmpl()
    assert len(store) == 0


def test_templates_under_auto_reuse_are_still_unique(store):
    """§3.12 case 133: two templates ``t`` called in one ``AUTO_REUSE`` scope get ``s/t`` and
    ``s/t_1`` — different variables."""
    tmpl1 = ts.make_template("t", lambda: ts.get_variable("w", [1]))
    tmpl2 = ts.make_template("t", lambda: ts.get_variable("w", [1]))
    with ts.variable_scope("s", reuse=ts.AUTO_REUSE):
        a = tmpl1()
        b = tmpl2()
    assert a is not b
    assert (store.name_of(a), store.name_of(b)) == ("s/t/w", "s/t_1/w")


def test_redefined_template_in_reused_scope_shares_variable(store):
    """§3.12 case 134 (template.py docstring): redefining the same template when re-entering
    ``scope`` with ``reuse=True`` shares ``scope/scale_by_y/y``."""
    def my_op(x, scalar_name):
        var1 = ts.get_variable(scalar_name, shape=[], initializer=ts.constant_initializer(1.0))
        return x * var1, var1

    x = torch.ones(2)
    with ts.variable_scope("scope") as vs:
        scale_by_y = ts.make_template("scale_by_y", my_op, scalar_name="y")
        _, y1 = scale_by_y(x)
    with ts.variable_scope(vs, reuse=True):
        scale_by_y2 = ts.make_template("scale_by_y", my_op, scalar_name="y")
        _, y2 = scale_by_y2(x)
    assert y1 is y2
    assert store.name_of(y1) == "scope/scale_by_y/y"
    assert len(store) == 1


def test_default_name_scope_inside_template_body_is_stable_across_calls(store):
    """§3.12 case 135: ``variable_scope(None, "layer")`` in the body is ``t/layer`` on every
    call, so the variable is shared."""
    def body():
        with ts.variable_scope(None, default_name="layer"):
            return ts.get_variable("w", [1])

    tmpl = ts.make_template("t", body)
    results = [tmpl(), tmpl(), tmpl()]
    assert results[0] is results[1] is results[2]
    assert store.name_of(results[0]) == "t/layer/w"
    assert len(store) == 1


# --------------------------------------------------------------------------- case 136

TRAIN_IN, TRAIN_OUT = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([2.8, 5.1, 7.2, 8.7])
TEST_IN, TEST_OUT = torch.tensor([5.0, 6.0, 7.0, 8.0]), torch.tensor([11.0, 13.0, 15.0, 17.0])


def _line(x):
    m = ts.get_variable("w", shape=[], initializer=ts.truncated_normal_initializer())
    b = ts.get_variable("b", shape=[], initializer=ts.truncated_normal_initializer())
    return x * m + b


def _sgd_step_then_test_losses(train_model, test_model):
    """One SGD step on the train loss; the test loss before and after it."""
    train_loss = ((train_model(TRAIN_IN) - TRAIN_OUT) ** 2).mean()    # builds, as TF's graph
    with torch.no_grad():
        before = ((test_model(TEST_IN) - TEST_OUT) ** 2).mean().item()
    # lr 0.05, not TF's 0.1: with 0.1 about 5% of truncated-normal initialisations overshoot on
    # the test inputs, so the outcome would hinge on the seed; 0.05 lowered the test loss for
    # every one of 500 seeds tried.
    optimizer = torch.optim.SGD(ts.trainable_variables(), lr=0.05)
    optimizer.zero_grad()
    train_loss.backward()
    optimizer.step()
    with torch.no_grad():
        after = ((test_model(TEST_IN) - TEST_OUT) ** 2).mean().item()
    return before, after


def test_end_to_end_training_through_template_lowers_shared_test_loss(store):
    """§3.12 case 136: train and test predictions come from one template, so one SGD step on
    the train loss lowers the test loss."""
    torch.manual_seed(1234)
    line = ts.make_template("line", _line)
    before, after = _sgd_step_then_test_losses(line, line)
    assert after < before
    assert [store.name_of(v) for v in ts.trainable_variables()] == ["line/w", "line/b"]


def test_end_to_end_without_sharing_leaves_test_loss_unchanged(store):
    """§3.12 case 136, the control: with two separate templates nothing is shared, so the
    same step leaves the test loss exactly where it was — the drop above is due to sharing."""
    torch.manual_seed(1234)
    train_line = ts.make_template("line", _line)
    test_line = ts.make_template("line", _line)
    before, after = _sgd_step_then_test_losses(train_line, test_line)
    assert after == before
    assert len(ts.trainable_variables()) == 4
