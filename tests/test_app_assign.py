"""``assign_changed``: Reflex re-sends every var that is assigned, so equal values are not."""

from __future__ import annotations

from agentchat_app.state.log import assign_changed


class Recorder:
    """Stands in for a state: remembers which attributes were assigned."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)
        self.__dict__["assigned"] = []

    def __setattr__(self, name: str, value: object) -> None:
        self.assigned.append(name)
        self.__dict__[name] = value


def test_only_the_values_that_differ_are_assigned():
    state = Recorder(draft="", suggestions=[], reply_to_id=0)
    assign_changed(state, draft="hello", suggestions=[], reply_to_id=0)
    assert state.assigned == ["draft"] and state.draft == "hello"


def test_equal_lists_are_not_assigned_again_but_changed_ones_are():
    state = Recorder(pending=[1, 2])
    assign_changed(state, pending=[1, 2])
    assert state.assigned == []
    assign_changed(state, pending=[1, 2, 3])
    assert state.assigned == ["pending"] and state.pending == [1, 2, 3]
