"""Structured logging set up once per process."""

import logging
import sys

import structlog

from app.settings import get_settings


def configure_logging() -> None:
    """Key-value logs on stderr at the configured level."""
    level = logging.getLevelName(get_settings().log_level.upper())
    logging.basicConfig(level=level, format="%(message)s")
    # The twilio client logs every request and its headers at INFO.
    logging.getLogger("twilio").setLevel(max(level, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
