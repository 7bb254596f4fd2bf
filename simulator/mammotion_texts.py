"""Static seed tables of the Mammotion simulator: regions and fault texts.

Shapes follow docs/cloud-apis.md §4.3.2 (regions) and §4.4.10 / §4.8 (fault records).
"""

from __future__ import annotations

# (isoCode, alpha-2, English name, Chinese name, pinyin, dialling code) - cloud-apis.md §5.4.1.
_AREAS = [
    ("USA", "US", "United States of America", "美国", "MeiGuo", "1"),
    ("SWE", "SE", "Sweden", "瑞典", "RuiDian", "46"),
    ("DEU", "DE", "Germany", "德国", "DeGuo", "49"),
    ("GBR", "GB", "United Kingdom", "英国", "YingGuo", "44"),
    ("FRA", "FR", "France", "法国", "FaGuo", "33"),
    ("NLD", "NL", "Netherlands", "荷兰", "HeLan", "31"),
    ("AUS", "AU", "Australia", "澳大利亚", "AoDaLiYa", "61"),
    ("CAN", "CA", "Canada", "加拿大", "JiaNaDa", "1"),
    ("CHN", "CN", "China", "中国", "ZhongGuo", "86"),
    ("JPN", "JP", "Japan", "日本", "RiBen", "81"),
    ("ESP", "ES", "Spain", "西班牙", "XiBanYa", "34"),
    ("ITA", "IT", "Italy", "意大利", "YiDaLi", "39"),
]


def area_list() -> list[dict]:
    """The `GET area` data: every value is a string, as captured (§4.3.2)."""
    return [
        {
            "areaCnName": cn,
            "areaEnName": en,
            "code": dial,
            "domainAbbreviation": alpha2,
            "id": str(1524591956582207515 + index),
            "isoCode": iso,
            "pinyin": pinyin,
        }
        for index, (iso, alpha2, en, cn, pinyin, dial) in enumerate(_AREAS)
    ]


def domain_of(iso_code: str) -> str | None:
    """alpha-2 code for an alpha-3 `isoCode`, or None when the area does not exist."""
    for iso, alpha2, *_ in _AREAS:
        if iso == iso_code:
            return alpha2
    return None


# code -> (default faultLevel, en implication, en solution, de implication, de solution).
# Codes are the community-collected ones of §4.8; texts are written for the simulator.
FAULTS: dict[int, tuple[int, str, str, str, str]] = {
    1003: (
        1,
        "Rain sensor triggered; the mower paused the task.",
        "Wait until the lawn is dry; the task resumes automatically.",
        "Regensensor ausgelöst; der Mäher hat die Aufgabe unterbrochen.",
        "Warten Sie, bis der Rasen trocken ist; die Aufgabe wird automatisch fortgesetzt.",
    ),
    1005: (
        1,
        "Low battery; the mower returns to recharge and will resume.",
        "No action needed. Keep the charging station powered.",
        "Akku schwach; der Mäher fährt zum Laden und setzt danach fort.",
        "Keine Aktion nötig. Lassen Sie die Ladestation eingeschaltet.",
    ),
    1019: (
        2,
        "The task cannot be executed (mapping issue or device locked).",
        "Check the map in the app and unlock the mower, then start again.",
        "Die Aufgabe kann nicht ausgeführt werden (Kartenproblem oder Gerät gesperrt).",
        "Prüfen Sie die Karte in der App, entsperren Sie den Mäher und starten Sie neu.",
    ),
    1026: (
        1,
        "Outside the configured working hours.",
        "Adjust the working hours in the app if mowing is wanted now.",
        "Außerhalb der eingestellten Arbeitszeiten.",
        "Passen Sie die Arbeitszeiten in der App an, wenn jetzt gemäht werden soll.",
    ),
    1100: (
        2,
        "The mower is outside the task area or inside a no-go zone.",
        "Drive the mower back into the task area manually.",
        "Der Mäher befindet sich außerhalb des Arbeitsbereichs oder in einer Sperrzone.",
        "Fahren Sie den Mäher manuell zurück in den Arbeitsbereich.",
    ),
    1200: (
        2,
        "No infrared signal from the station; recharging failed.",
        "Clean the station's IR window and check that nothing blocks it.",
        "Kein Infrarotsignal der Station; Laden fehlgeschlagen.",
        "Reinigen Sie das IR-Fenster der Station und entfernen Sie Hindernisse.",
    ),
    1201: (
        3,
        "The mower is stuck and needs rescue.",
        "Free the mower, remove the obstacle, then resume the task.",
        "Der Mäher steckt fest und muss befreit werden.",
        "Befreien Sie den Mäher, entfernen Sie das Hindernis und setzen Sie fort.",
    ),
    1202: (
        3,
        "The cutting plate is stuck.",
        "Switch the mower off and clear grass or debris from the cutting plate.",
        "Der Messerteller blockiert.",
        "Schalten Sie den Mäher aus und entfernen Sie Gras oder Fremdkörper vom Messerteller.",
    ),
    1204: (
        2,
        "Automatic recharging failed.",
        "Place the mower on the charging station manually.",
        "Automatisches Laden fehlgeschlagen.",
        "Setzen Sie den Mäher manuell auf die Ladestation.",
    ),
    1300: (
        2,
        "Poor positioning quality (GNSS).",
        "Check the RTK station's view of the sky and wait for a better signal.",
        "Schlechte Positionsbestimmung (GNSS).",
        "Prüfen Sie die freie Sicht der RTK-Station und warten Sie auf besseres Signal.",
    ),
    1301: (
        1,
        "The charging station was moved.",
        "Re-record the station position in the app.",
        "Die Ladestation wurde versetzt.",
        "Zeichnen Sie die Position der Station in der App neu auf.",
    ),
    2700: (
        3,
        "Battery critically low.",
        "Place the mower on the charging station immediately.",
        "Akku kritisch niedrig.",
        "Setzen Sie den Mäher sofort auf die Ladestation.",
    ),
    2735: (
        2,
        "Battery temperature too high.",
        "Let the mower cool down in the shade before continuing.",
        "Akkutemperatur zu hoch.",
        "Lassen Sie den Mäher im Schatten abkühlen, bevor Sie fortfahren.",
    ),
    2800: (
        3,
        "The STOP button was pressed.",
        "Release the STOP state on the mower, then resume in the app.",
        "Die STOPP-Taste wurde gedrückt.",
        "Heben Sie den STOPP-Zustand am Mäher auf und setzen Sie in der App fort.",
    ),
    2801: (
        3,
        "Lift sensor triggered.",
        "Put the mower back on flat ground and check the body for damage.",
        "Hebesensor ausgelöst.",
        "Stellen Sie den Mäher auf ebenen Boden und prüfen Sie das Gehäuse.",
    ),
    2804: (
        2,
        "Poor Bluetooth connection.",
        "Move the phone closer to the mower.",
        "Schlechte Bluetooth-Verbindung.",
        "Gehen Sie mit dem Telefon näher an den Mäher.",
    ),
}

FALLBACK_FAULT = (
    2,
    "Unknown fault.",
    "Check the mower and contact Mammotion support if the fault persists.",
    "Unbekannte Störung.",
    "Prüfen Sie den Mäher und wenden Sie sich an den Mammotion-Support, falls die Störung bleibt.",
)


def fault_texts(code: int, lang: str) -> tuple[str, str]:
    """(implication, solution) for a fault code in "en" or "de"."""
    entry = FAULTS.get(code, FALLBACK_FAULT)
    return (entry[3], entry[4]) if lang == "de" else (entry[1], entry[2])


def language(accept_language: str) -> str:
    """ "de" when the first usable tag of Accept-Language is German; en-US otherwise (§4.4.2)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("de"):
            return "de"
        if tag.startswith("en"):
            return "en"
    return "en"
