"""Reading a compose service's mounts and command flags, in either syntax a Compose implementation prints.

Shared by the `compose config` checks and the loopback topology, which must read compose.yaml the same way.
"""

from __future__ import annotations


def mounts(service: dict) -> list[tuple[str, str, str]]:
    """Gives (type, source, target) per volume; Compose v1 and compose.yaml itself use short syntax, the v2
    plugin long syntax."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((volume["type"], volume["source"], volume["target"]))
            continue
        source, target = volume.split(":")[:2]
        kind = "bind" if source.startswith(("/", ".")) else "volume"
        found.append((kind, source, target))
    return found


def command_flags(service: dict) -> dict[str, str]:
    """Gives the `--name=value` flags of a service's command as a dict."""
    command = service.get("command", [])
    return dict(arg[2:].partition("=")[::2] for arg in command if arg.startswith("--"))


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Gives `value` with compose's `${NAME}`, `${NAME:-default}` and `${NAME-default}` filled from `env` (default:
    none set), as `compose up` would in a shell without those variables."""
    import re

    env = env or {}

    def fill(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if name in env and (operator != ":-" or env[name]):
            return env[name]
        return default if operator else ""

    return re.sub(r"\$\{(\w+)(?:(:?-)([^}]*))?\}", fill, value)
