"""The baseline: a bare Prefect flow of hefa's shape, no hefa code.

Per replay it runs two trivial tasks — the first reads the run's stored inputs,
as hefa's ``take_form_inputs`` does; the second stands for ``publish_matter`` —
then suspends with ``wait_for_input`` under a fresh key. It is resumed with
``POST /flow_runs/{id}/resume`` and a ``run_input``, as Prefect's UI form does.

Served with ``flow.serve`` in its own process (``python -m benchmarks.bare_flow``),
with the same ``PREFECT_RUNNER_POLL_FREQUENCY`` as ``hefa serve``.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import filter_flow_run_input
from prefect.runtime import flow_run


class Answer(RunInput):
    conclusion: str
    reasons: str


@task(cache_policy=NO_CACHE, persist_result=False)
def take_inputs(run_id: str) -> int:
    stored = filter_flow_run_input(key_prefix="suspended-", limit=200, flow_run_id=run_id)
    return sum(1 for item in stored if item.key.endswith("-response"))


@task(cache_policy=NO_CACHE, persist_result=False)
def publish(count: int) -> int:
    return count


@flow(name="bare-review", persist_result=False)
def bare_review(steps: int = 1000) -> int:
    run_id = str(flow_run.get_id())
    count = take_inputs(run_id)
    publish(count)
    if count >= steps:
        return count
    suspend_flow_run(wait_for_input=Answer, key=f"s{count}", timeout=24 * 3600)
    return count  # not reached: suspending ends the process


if __name__ == "__main__":
    bare_review.serve(name="bare", print_starting_message=False)
