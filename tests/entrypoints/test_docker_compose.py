"""The shipped docker-compose.yml does not publish a header-trusting service to the network."""

from __future__ import annotations

import re
from pathlib import Path

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"


def published_ports() -> list[str]:
    ports, in_ports = [], False
    for line in COMPOSE.read_text().splitlines():
        if re.fullmatch(r"\s*ports:\s*", line):
            in_ports = True
        elif in_ports and (item := re.fullmatch(r"\s*-\s*\"?([^\"]+)\"?\s*", line)):
            ports.append(item.group(1))
        elif line.strip() and not line.strip().startswith("#"):
            in_ports = False
    return ports


def test_every_published_port_is_bound_to_localhost() -> None:
    ports = published_ports()
    assert ports == ["127.0.0.1:3000:3000"]


def test_the_file_says_which_gateway_it_expects() -> None:
    text = COMPOSE.read_text()
    assert "deletes any identity headers the client sent" in text
    assert "AUTH_MODE=jwt" in text
