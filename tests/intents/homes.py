"""Homes for the fast-path tests and benchmark: a generated 500-entity home and a small German one."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOMS = [
    ("kitchen", "Kitchen", "ground"), ("living_room", "Living Room", "ground"), ("dining_room", "Dining Room", "ground"),
    ("study", "Study", "first"), ("library", "Library", "first"), ("nursery", "Nursery", "first"),
    ("playroom", "Playroom", "first"), ("laundry", "Laundry", "basement"), ("pantry", "Pantry", "ground"),
    ("hallway", "Hallway", "ground"), ("guest_room", "Guest Room", "first"), ("master_bedroom", "Master Bedroom", "first"),
    ("kids_room", "Kids Room", "first"), ("attic", "Attic", "second"), ("workshop", "Workshop", "basement"),
    ("gym", "Gym", "basement"), ("sauna", "Sauna", "basement"), ("conservatory", "Conservatory", "ground"),
    ("wine_cellar", "Wine Cellar", "basement"), ("porch", "Porch", "ground"), ("patio", "Patio", "ground"),
    ("balcony", "Balcony", "second"), ("garage", "Garage", "ground"), ("bathroom", "Bathroom", "first"),
    ("music_room", "Music Room", "second"),
]

# (object id suffix, domain, name pattern, state, attributes); "Ceiling Light" repeats in every room on purpose
DEVICES = [
    ("ceiling", "light", "Ceiling Light", "off", {"brightness": None}),
    ("lamp", "light", "{room} Lamp", "on", {"brightness": 120}),
    ("spots", "light", "{room} Spots", "off", {"brightness": None}),
    ("strip", "light", "{room} LED Strip", "off", {"brightness": None}),
    ("accent", "light", "{room} Accent Light", "off", {"brightness": None}),
    ("nightlight", "light", "{room} Night Light", "off", {"brightness": None}),
    ("plug", "switch", "{room} Plug", "off", {}),
    ("heater", "switch", "{room} Heater", "off", {}),
    ("charger", "switch", "{room} Charger", "on", {}),
    ("dehumidifier", "switch", "{room} Dehumidifier", "off", {}),
    ("fan", "fan", "{room} Fan", "off", {"percentage": 0}),
    ("blinds", "cover", "{room} Blinds", "closed", {"device_class": "blind"}),
    ("curtains", "cover", "{room} Curtains", "open", {"device_class": "curtain"}),
    ("thermostat", "climate", "{room} Thermostat", "heat",
     {"temperature": 20, "current_temperature": 19.0, "hvac_modes": ["off", "heat", "cool", "auto"], "min_temp": 7, "max_temp": 30}),
    ("speaker", "media_player", "{room} Speaker", "idle", {"volume_level": 0.2, "is_volume_muted": False}),
    ("temperature", "sensor", "{room} Temperature", "20.5", {"unit_of_measurement": "°C", "device_class": "temperature"}),
    ("humidity", "sensor", "{room} Humidity", "45", {"unit_of_measurement": "%", "device_class": "humidity"}),
    ("motion", "binary_sensor", "{room} Motion", "off", {"device_class": "motion"}),
    ("window", "binary_sensor", "{room} Window", "off", {"device_class": "window"}),
    ("door_lock", "lock", "{room} Door Lock", "locked", {}),
]


def generated_home() -> dict:
    """25 rooms x 20 devices = 500 entities, over four floors."""
    floors = [
        {"id": "basement", "name": "Basement", "level": -1},
        {"id": "ground", "name": "Ground Floor", "level": 0, "aliases": ["downstairs"]},
        {"id": "first", "name": "First Floor", "level": 1, "aliases": ["upstairs"]},
        {"id": "second", "name": "Second Floor", "level": 2},
    ]
    areas = [{"id": rid, "name": name, "floor": floor} for rid, name, floor in ROOMS]
    entities = []
    for rid, room, _ in ROOMS:
        for suffix, domain, pattern, state, attrs in DEVICES:
            entities.append({
                "id": f"{domain}.{rid}_{suffix}", "name": pattern.format(room=room), "area": rid,
                "state": state, "attributes": dict(attrs),
            })
    return {"floors": floors, "areas": areas, "entities": entities}


GERMAN_HOME = {
    "areas": [
        {"id": "kueche", "name": "Küche"},
        {"id": "wohnzimmer", "name": "Wohnzimmer"},
        {"id": "schlafzimmer", "name": "Schlafzimmer"},
    ],
    "entities": [
        {"id": "light.kueche", "name": "Küchenlicht", "area": "kueche", "state": "off", "attributes": {"brightness": None}},
        {"id": "light.stehlampe", "name": "Stehlampe", "area": "wohnzimmer", "state": "on", "attributes": {"brightness": 100}},
        {"id": "light.schlafzimmer", "name": "Schlafzimmerlicht", "area": "schlafzimmer", "state": "off", "attributes": {"brightness": None}},
        {"id": "climate.heizung", "name": "Heizung", "area": "wohnzimmer", "state": "heat",
         "attributes": {"temperature": 20, "current_temperature": 19.5, "hvac_modes": ["off", "heat"], "min_temp": 7, "max_temp": 30}},
        {"id": "cover.garagentor", "name": "Garagentor", "state": "closed", "attributes": {"device_class": "garage"}},
        {"id": "media_player.wohnzimmer", "name": "Wohnzimmer Lautsprecher", "area": "wohnzimmer", "state": "playing",
         "attributes": {"volume_level": 0.3, "is_volume_muted": False, "media_title": "Jazz FM"}},
    ],
}


def write_home(path: Path, home: dict) -> Path:
    path.write_text(yaml.safe_dump(home, allow_unicode=True, sort_keys=False))
    return path
