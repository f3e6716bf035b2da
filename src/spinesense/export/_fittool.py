"""fit-tool's classes, imported without the ``logging.basicConfig`` that fit-tool runs on import.

That call would add a second handler to the root logger and print every log line of spinesense twice.
"""

import logging

_handlers = list(logging.root.handlers)
# ruff: noqa: E402 - the imports must sit between saving and restoring the root handlers
from fit_tool.base_type import BaseType
from fit_tool.developer_field import DeveloperField
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.developer_data_id_message import DeveloperDataIdMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.field_description_message import FieldDescriptionMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport

logging.root.handlers[:] = _handlers

__all__ = [
    "ActivityMessage",
    "BaseType",
    "DeveloperDataIdMessage",
    "DeveloperField",
    "Event",
    "EventMessage",
    "EventType",
    "FieldDescriptionMessage",
    "FileIdMessage",
    "FileType",
    "FitFileBuilder",
    "LapMessage",
    "Manufacturer",
    "RecordMessage",
    "SessionMessage",
    "Sport",
]
