"""A local, Twilio-compatible SMS server that stands in for Twilio in development, demos and tests."""

from simulator.app import create_app
from simulator.config import SimulatorConfig
from simulator.server import BackgroundServer, serve

__all__ = ["BackgroundServer", "SimulatorConfig", "create_app", "serve"]
