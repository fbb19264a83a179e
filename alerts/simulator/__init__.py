"""A local, Twilio-compatible SMS server that stands in for Twilio in development, demos and tests."""

from alerts.simulator.app import create_app
from alerts.simulator.config import SimulatorConfig
from alerts.simulator.server import BackgroundServer, serve

__all__ = ["BackgroundServer", "SimulatorConfig", "create_app", "serve"]
