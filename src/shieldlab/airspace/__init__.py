"""The air picture: aircraft and cruise missiles (air-breathing flight), national airspace and
the crossing of its borders, and air policing (warnings, scrambles, intercepts)."""
