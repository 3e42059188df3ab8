"""Property test: random step / back / goto / branch / manual-action sequences on the runner
agree with a reference that keeps full copies of every state, computed without the scene."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from SegmentEditorAdaptiveBrushLib.core.brush import compute_brush
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters
from SegmentEditorAdaptiveBrushLib.scene.context import slicer_context
from SegmentEditorAdaptiveBrushLib.scene.volume import volume_array
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner

# Points inside the chest CT's body (RAS mm); small radii keep each stroke cheap.
POINTS = [
    (75.0, -20.0, -190.0),
    (62.0, -12.0, -110.0),
    (-70.0, -10.0, -150.0),
    (10.0, 40.0, -120.0),
    (80.0, 0.0, -150.0),
]
ACTIONS = st.one_of(
    st.builds(
        lambda p, r: RecipeAction.paint(POINTS[p], brush_radius_mm=r),
        st.integers(0, 4),
        st.sampled_from([6.0, 12.0]),
    ),
    st.builds(lambda p: RecipeAction.erase(POINTS[p], brush_radius_mm=8.0), st.integers(0, 4)),
    st.builds(
        lambda a: RecipeAction.set_algorithm(a),
        st.sampled_from(["connected_threshold", "geodesic_distance"]),
    ),
    st.builds(
        lambda s: RecipeAction.set_param("edge_sensitivity", s), st.sampled_from([20.0, 60.0])
    ),
)
RECIPE_ACTIONS = [
    RecipeAction.paint(POINTS[0], brush_radius_mm=12.0, algorithm="connected_threshold"),
    RecipeAction.paint(POINTS[1], path=[POINTS[4]]),
    RecipeAction.set_param("edge_sensitivity", 70.0),
    RecipeAction.erase(POINTS[0], brush_radius_mm=6.0),
    RecipeAction.paint(POINTS[2], brush_radius_mm=10.0, algorithm="geodesic_distance"),
]


def _content(action: RecipeAction) -> str:
    """What an action does (its timestamp and description aside), as a cache key."""
    data = action.to_dict()
    data.pop("timestamp")
    data.pop("description")
    return json.dumps(data, sort_keys=True)


class Reference:
    """Full copies of (segment, parameters) for every prefix of actions, scene-free."""

    def __init__(self, volume: np.ndarray, matrix: np.ndarray) -> None:
        self.volume, self.matrix = volume, matrix
        self.cache: dict[tuple[str, ...], tuple[np.ndarray, BrushParameters]] = {
            (): (np.zeros(volume.shape, bool), BrushParameters())
        }

    def state(self, actions: list[RecipeAction]) -> tuple[np.ndarray, BrushParameters]:
        key = tuple(_content(a) for a in actions)
        if key not in self.cache:
            mask, params = self.state(actions[:-1])
            self.cache[key] = self._apply(mask, params, actions[-1])
        return self.cache[key]

    def _apply(self, mask, params, action):
        params = params.with_updates(action.params)
        if action.type in ("set_param", "set_algorithm"):
            return mask, params
        result = mask.copy()
        for point in [action.ras, *action.path]:
            brush = compute_brush(self.volume, self.matrix, point, params)
            region = result[brush.region.slices]
            if action.type == "erase":
                region &= ~brush.mask
            else:
                region |= brush.mask
        return result, params


class RunnerMachine(RuleBasedStateMachine):
    budget_bytes = 64 * 1024 * 1024

    def __init__(self) -> None:
        super().__init__()
        recipe = ActionRecipe(
            name="property", sample_data="default", segment_name="s", actions=list(RECIPE_ACTIONS)
        )
        self.runner = SteppingRecipeRunner(recipe, checkpoint_budget_bytes=self.budget_bytes)
        self.runner.setup()
        self.reference = Reference(
            volume_array(self.runner.volume_node), self.runner.volume_ijk_to_ras()
        )

    @rule()
    def step_forward(self):
        self.runner.step_forward()

    @rule()
    def step_backward(self):
        self.runner.step_backward()

    @rule(data=st.data())
    def goto(self, data):
        self.runner.goto_step(data.draw(st.integers(-1, self.runner.total_steps() - 1)))

    @precondition(lambda self: not self.runner.is_branching())
    @rule()
    def start_branch(self):
        self.runner.start_branch()

    @precondition(lambda self: self.runner.is_branching())
    @rule(action=ACTIONS)
    def manual_action(self, action):
        self.runner.add_manual_action(action)

    @precondition(lambda self: self.runner.is_branching())
    @rule()
    def stop_branch(self):
        self.runner.stop_branch()

    @invariant()
    def scene_and_parameters_match_the_reference(self):
        actions = self.runner.timeline()[: self.runner.current_step + 1]
        expected, params = self.reference.state(actions)
        assert np.array_equal(self.runner.current_segment_array(), expected)
        assert self.runner.logic.parameters == params
        steps = [c.step_index for c in self.runner.checkpoints]
        assert steps == sorted(set(steps)) and steps[0] == -1
        assert self.runner.current_step in steps

    def teardown(self):
        self.runner.cleanup()


class TinyBudgetMachine(RunnerMachine):
    """A budget so small that the store thins checkpoints: restores must re-execute."""

    budget_bytes = 1500


def _run(machine: type[RuleBasedStateMachine], examples: int) -> None:
    slicer_context()
    case = machine.TestCase
    case.settings = settings(
        max_examples=examples,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    case("runTest").runTest()


@pytest.mark.slow
def test_runner_against_full_copies(clean_scene):
    _run(RunnerMachine, 30)


@pytest.mark.slow
def test_runner_with_thinned_checkpoints_against_full_copies(clean_scene):
    _run(TinyBudgetMachine, 20)
