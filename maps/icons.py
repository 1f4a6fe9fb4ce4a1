"""Category icon names (layers/fixtures/categories.json) → symbols shown on the phone page."""

SYMBOLS = {
    "manhole": "🕳️",
    "lamp": "💡",
    "hydrant": "🧯",
    "camera": "📷",
    "structure": "🏚️",
    "garbage": "🗑️",
    "boxes": "📦",
    "broom": "🧹",
    "flyer": "📄",
    "noise": "🔊",
    "dust": "🌫️",
    "barrier": "🚧",
    "warning": "⚠️",
    "fire": "🔥",
    "water": "💧",
    "cart": "🛒",
    "shop": "🏪",
    "car": "🚗",
    "grill": "🍢",
    "fire-lane": "🚒",
    "pipe": "🚰",
    "lift": "🛗",
    "parking": "🅿️",
    "hand": "🙋",
    "complaint": "📢",
    "question": "❓",
    "idea": "💡",
    "heart": "❤️",
}


def symbol_for(icon: str) -> str:
    return SYMBOLS.get(icon, "📍")
