"""`nvr demo`: the main job on embedded defaults."""

import typer
from rich.console import Console

from tools.demo.runner import DemoConfig, run_demo


def demo(
    town: str = typer.Option("Carlisle", help="UK town the flood hits"),
    volunteers: int = typer.Option(3000, min=50, max=200_000, help="synthetic reserve size around the town"),
    seed: int = typer.Option(2026, help="seed for the reserve and for how people answer"),
    timeout_s: float = typer.Option(300.0, min=10, help="give up after this long"),
) -> None:
    """Run a whole mobilisation locally against the SMS simulator; exit 0 when every need is filled."""
    config = DemoConfig(town=town, volunteers=volunteers, seed=seed, timeout_s=timeout_s)
    raise typer.Exit(run_demo(config, Console()))
