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


def family_home() -> dict:
    """A two-storey family house named the way people name devices in Home Assistant: several lights per
    room (few of them called after the room), one thermostat, speakers, blinds, two locks, floors."""
    floors = [
        {"id": "basement", "name": "Basement", "level": -1},
        {"id": "ground", "name": "Ground Floor", "level": 0},
        {"id": "first", "name": "First Floor", "level": 1},
    ]
    areas = [
        {"id": "kitchen", "name": "Kitchen", "floor": "ground"},
        {"id": "living_room", "name": "Living Room", "floor": "ground", "aliases": ["lounge"]},
        {"id": "dining_room", "name": "Dining Room", "floor": "ground"},
        {"id": "hallway", "name": "Hallway", "floor": "ground", "aliases": ["hall"]},
        {"id": "master_bedroom", "name": "Master Bedroom", "floor": "first", "aliases": ["bedroom"]},
        {"id": "kids_room", "name": "Kids Room", "floor": "first", "aliases": ["nursery"]},
        {"id": "bathroom", "name": "Bathroom", "floor": "first"},
        {"id": "office", "name": "Office", "floor": "first", "aliases": ["study"]},
        {"id": "laundry", "name": "Laundry", "floor": "basement"},
        {"id": "garage", "name": "Garage", "floor": "ground"},
        {"id": "garden", "name": "Garden", "aliases": ["backyard"]},
    ]
    dimmable: dict[str, object] = {"brightness": None, "supported_color_modes": ["brightness"]}
    colour: dict[str, object] = {"brightness": None, "supported_color_modes": ["hs", "color_temp"]}

    def light(oid: str, name: str, area: str, attrs: dict[str, object], state: str = "off") -> dict:
        return {"id": f"light.{oid}", "name": name, "area": area, "state": state, "attributes": dict(attrs)}

    entities = [
        light("kitchen_ceiling", "Kitchen Ceiling", "kitchen", dimmable, "on"),
        light("island_pendants", "Island Pendants", "kitchen", dimmable),
        light("under_cabinet", "Under Cabinet Lights", "kitchen", dimmable),
        light("living_room_ceiling", "Living Room Ceiling", "living_room", dimmable),
        light("floor_lamp", "Floor Lamp", "living_room", dimmable, "on"),
        light("tv_backlight", "TV Backlight", "living_room", colour),
        light("chandelier", "Dining Chandelier", "dining_room", dimmable),
        light("dining_wall", "Dining Wall Lights", "dining_room", dimmable),
        light("hallway", "Hallway Light", "hallway", dimmable),
        light("bedroom_ceiling", "Bedroom Ceiling", "master_bedroom", dimmable),
        light("left_bedside", "Left Bedside Lamp", "master_bedroom", colour),
        light("right_bedside", "Right Bedside Lamp", "master_bedroom", colour),
        light("kids_ceiling", "Kids Room Light", "kids_room", dimmable),
        light("star_projector", "Star Projector", "kids_room", colour),
        light("bathroom", "Bathroom Light", "bathroom", dimmable),
        light("mirror", "Mirror Light", "bathroom", dimmable),
        light("office_ceiling", "Office Ceiling", "office", dimmable),
        light("desk_lamp", "Desk Lamp", "office", dimmable),
        light("laundry", "Laundry Light", "laundry", dimmable),
        light("garage", "Garage Light", "garage", dimmable),
        light("garden", "Garden Lights", "garden", dimmable),
        light("patio_string", "Patio String Lights", "garden", dimmable),
        {"id": "climate.thermostat", "name": "Thermostat", "area": "hallway", "state": "heat",
         "attributes": {"temperature": 20, "current_temperature": 19.5, "hvac_modes": ["off", "heat", "cool", "auto"],
                        "min_temp": 7, "max_temp": 30}},
        {"id": "media_player.kitchen_speaker", "name": "Kitchen Speaker", "area": "kitchen", "state": "idle",
         "attributes": {"volume_level": 0.2, "is_volume_muted": False}},
        {"id": "media_player.living_room_sonos", "name": "Living Room Sonos", "area": "living_room", "state": "paused",
         "attributes": {"volume_level": 0.3, "is_volume_muted": False, "media_title": "Classic FM"}},
        {"id": "media_player.bedroom_speaker", "name": "Bedroom Speaker", "area": "master_bedroom", "state": "idle",
         "attributes": {"volume_level": 0.1, "is_volume_muted": False}},
        {"id": "media_player.office_speaker", "name": "Office Speaker", "area": "office", "state": "playing",
         "attributes": {"volume_level": 0.25, "is_volume_muted": False, "media_title": "Focus"}},
        {"id": "cover.living_room_blinds", "name": "Living Room Blinds", "area": "living_room", "state": "open",
         "attributes": {"device_class": "blind"}},
        {"id": "cover.bedroom_blinds", "name": "Bedroom Blinds", "area": "master_bedroom", "state": "closed",
         "attributes": {"device_class": "blind"}},
        {"id": "cover.office_blinds", "name": "Office Blinds", "area": "office", "state": "closed",
         "attributes": {"device_class": "blind"}},
        {"id": "cover.garage_door", "name": "Garage Door", "area": "garage", "state": "closed",
         "attributes": {"device_class": "garage"}},
        {"id": "lock.front_door", "name": "Front Door", "area": "hallway", "state": "locked", "attributes": {}},
        {"id": "lock.back_door", "name": "Back Door", "area": "kitchen", "state": "locked", "attributes": {}},
        {"id": "fan.bedroom_fan", "name": "Bedroom Fan", "area": "master_bedroom", "state": "off",
         "attributes": {"percentage": 0}},
        {"id": "fan.office_fan", "name": "Office Fan", "area": "office", "state": "off", "attributes": {"percentage": 0}},
        {"id": "switch.coffee_machine", "name": "Coffee Machine", "area": "kitchen", "state": "off", "attributes": {}},
        {"id": "switch.dehumidifier", "name": "Dehumidifier", "area": "laundry", "state": "on", "attributes": {}},
        {"id": "switch.christmas_tree", "name": "Christmas Tree", "area": "living_room", "state": "off", "attributes": {}},
        {"id": "sensor.kitchen_temperature", "name": "Kitchen Temperature", "area": "kitchen", "state": "21.5",
         "attributes": {"unit_of_measurement": "°C", "device_class": "temperature"}},
        {"id": "sensor.bedroom_temperature", "name": "Bedroom Temperature", "area": "master_bedroom", "state": "18.0",
         "attributes": {"unit_of_measurement": "°C", "device_class": "temperature"}},
        {"id": "sensor.outdoor_temperature", "name": "Outdoor Temperature", "area": "garden", "state": "7.5",
         "attributes": {"unit_of_measurement": "°C", "device_class": "temperature"}},
        {"id": "sensor.bathroom_humidity", "name": "Bathroom Humidity", "area": "bathroom", "state": "62",
         "attributes": {"unit_of_measurement": "%", "device_class": "humidity"}},
    ]
    return {"floors": floors, "areas": areas, "entities": entities}


def apartment_home() -> dict:
    """A flat with a loft, written after the issue 13 matcher work for a second held-out set: lights named for
    what they are rather than for the room, a heat pump as the only climate device, a soundbar, an awning."""
    floors = [{"id": "main", "name": "Main Floor", "level": 0}, {"id": "loft", "name": "Loft", "level": 1}]
    areas = [
        {"id": "living_room", "name": "Living Room", "floor": "main", "aliases": ["lounge"]},
        {"id": "kitchen", "name": "Kitchen", "floor": "main"},
        {"id": "bedroom", "name": "Bedroom", "floor": "main"},
        {"id": "guest_room", "name": "Guest Room", "floor": "main", "aliases": ["spare room"]},
        {"id": "bathroom", "name": "Bathroom", "floor": "main"},
        {"id": "entrance", "name": "Entrance", "floor": "main", "aliases": ["hall"]},
        {"id": "den", "name": "Den", "floor": "loft"},
        {"id": "balcony", "name": "Balcony"},
    ]
    dim: dict[str, object] = {"brightness": None, "supported_color_modes": ["brightness"]}
    colour: dict[str, object] = {"brightness": None, "supported_color_modes": ["hs", "color_temp"]}
    onoff: dict[str, object] = {"supported_color_modes": ["onoff"]}

    def light(oid: str, name: str, area: str, attrs: dict[str, object], state: str = "off") -> dict:
        return {"id": f"light.{oid}", "name": name, "area": area, "state": state, "attributes": dict(attrs)}

    entities = [
        light("sofa_lamp", "Sofa Lamp", "living_room", dim, "on"),
        light("ceiling_spots", "Ceiling Spots", "living_room", dim),
        light("led_strip", "LED Strip", "living_room", colour),
        light("pendant", "Pendant", "kitchen", dim, "on"),
        light("worktop", "Worktop Lights", "kitchen", dim),
        light("nightstand", "Nightstand Lamp", "bedroom", colour),
        light("wardrobe", "Wardrobe Light", "bedroom", onoff),
        light("guest_ceiling", "Guest Ceiling", "guest_room", dim),
        light("vanity", "Vanity Light", "bathroom", dim),
        light("entrance", "Entrance Light", "entrance", dim),
        light("den_ceiling", "Den Ceiling", "den", dim),
        light("reading", "Reading Light", "den", colour),
        light("lantern", "Lantern", "balcony", dim),
        {"id": "climate.heat_pump", "name": "Heat Pump", "area": "living_room", "state": "heat",
         "attributes": {"temperature": 21, "current_temperature": 20.5, "hvac_modes": ["off", "heat", "cool", "auto"],
                        "min_temp": 10, "max_temp": 30}},
        {"id": "media_player.soundbar", "name": "Soundbar", "area": "living_room", "state": "idle",
         "attributes": {"volume_level": 0.2, "is_volume_muted": False}},
        {"id": "media_player.kitchen_radio", "name": "Kitchen Radio", "area": "kitchen", "state": "playing",
         "attributes": {"volume_level": 0.3, "is_volume_muted": False, "media_title": "Morning Show"}},
        {"id": "media_player.den_speaker", "name": "Den Speaker", "area": "den", "state": "idle",
         "attributes": {"volume_level": 0.15, "is_volume_muted": False}},
        {"id": "cover.awning", "name": "Awning", "area": "balcony", "state": "closed", "attributes": {"device_class": "awning"}},
        {"id": "cover.bedroom_shutter", "name": "Bedroom Shutter", "area": "bedroom", "state": "open",
         "attributes": {"device_class": "shutter"}},
        {"id": "cover.curtains", "name": "Curtains", "area": "living_room", "state": "open",
         "attributes": {"device_class": "curtain"}},
        {"id": "lock.apartment_door", "name": "Apartment Door", "area": "entrance", "state": "locked", "attributes": {}},
        {"id": "switch.kettle", "name": "Kettle", "area": "kitchen", "state": "off", "attributes": {}},
        {"id": "switch.towel_rail", "name": "Towel Rail", "area": "bathroom", "state": "off", "attributes": {}},
        {"id": "switch.fairy_lights", "name": "Fairy Lights", "area": "balcony", "state": "off", "attributes": {}},
        {"id": "fan.den_fan", "name": "Den Fan", "area": "den", "state": "off", "attributes": {"percentage": 0}},
        {"id": "sensor.balcony_temperature", "name": "Balcony Temperature", "area": "balcony", "state": "4.5",
         "attributes": {"unit_of_measurement": "°C", "device_class": "temperature"}},
        {"id": "sensor.bathroom_humidity", "name": "Bathroom Humidity", "area": "bathroom", "state": "70",
         "attributes": {"unit_of_measurement": "%", "device_class": "humidity"}},
    ]
    return {"floors": floors, "areas": areas, "entities": entities}
