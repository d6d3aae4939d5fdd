"""Synthetic but realistic personal memories for the scale benchmark.

Templated facts, preferences, plans, instructions and events over varied vocabulary,
plus question-like queries in the same vocabulary. Deterministic for a given seed.
"""

from __future__ import annotations

import random


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split("|") if word.strip()]


NAMES = _words(
    "Alice|Amir|Beatriz|Bilal|Chen|Chiara|Dmitri|Dana|Elif|Emeka|Farah|Felix|Gita|"
    "Gustavo|Hana|Hugo|Ines|Ivan|Jamal|Jonas|Kaito|Keira|Lars|Leila|Mateo|Maya|Nadia|"
    "Noah|Olu|Oskar|Priya|Pablo|Quinn|Rosa|Rahul|Sofia|Sven|Tariq|Thea|Uma|Viktor|"
    "Wen|Yara|Zane"
)
RELATIONS = _words(
    "sister|brother|mother|father|daughter|son|cousin|aunt|uncle|grandmother|"
    "neighbour|colleague|manager|friend|partner|flatmate|mentor|dentist|doctor|"
    "landlord"
)
CITIES = _words(
    "Lisbon|Oslo|Nairobi|Osaka|Lyon|Porto|Dublin|Austin|Denver|Krakow|Seville|"
    "Hamburg|Toronto|Vancouver|Melbourne|Cusco|Hanoi|Tbilisi|Marseille|Bergen|"
    "Bologna|Quito"
)
FOODS = _words(
    "ramen|sourdough|falafel|kimchi|paella|tacos|dumplings|risotto|hummus|pho|curry|"
    "lasagne|ceviche|bibimbap|gnocchi|shakshuka|pierogi|tiramisu|baklava|croissants"
)
DRINKS = _words("espresso|oolong|matcha|rooibos|kombucha|cortado|chai|lemonade|cider|stout")
ACTIVITIES = _words(
    "bouldering|sailing|pottery|running|chess|gardening|salsa dancing|birdwatching|"
    "kayaking|baking|photography|woodworking|knitting|cycling|yoga|swimming|climbing|"
    "painting|hiking|fencing|surfing"
)
THINGS = _words(
    "laptop|bicycle|passport|umbrella|camera|guitar|keyboard|backpack|tent|telescope|"
    "sewing machine|espresso machine|drone|e-reader"
)
TOPICS = _words(
    "tax return|quarterly report|thesis chapter|grant proposal|kitchen renovation|"
    "wedding speech|conference talk|job application|visa paperwork|"
    "budget spreadsheet|garden shed|car insurance|piano recital|marathon training"
)
WEEKDAYS = _words("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday")
TIMES = _words("morning|afternoon|evening|night|weekend|lunchtime")
ADJECTIVES = _words(
    "spicy|quiet|early|late|strong|light|cheap|vegetarian|gluten-free|local|organic|"
    "small|crowded|sunny|rainy|long|short"
)
ALLERGIES = _words("peanuts|shellfish|penicillin|pollen|cats|lactose|gluten|latex")
BOOKS = _words(
    "The Left Hand of Darkness|Middlemarch|Pachinko|The Overstory|Piranesi|Stoner|"
    "Beloved|The Remains of the Day|Kindred|Circe|Educated|Sapiens"
)

TEMPLATES = (
    ("preference", "I prefer {drink} in the {time} and never after {hour} pm."),
    ("preference", "I like {adjective} {food}, especially from small places in {city}."),
    ("preference", "Please keep answers short and skip the {topic} details unless I ask."),
    ("preference", "My favourite way to spend a {weekday} {time} is {activity}."),
    ("fact", "My {relation} {name} lives in {city} and works as a {job}."),
    ("fact", "I am allergic to {allergy}; {name} knows what to do if it happens."),
    ("fact", "My {thing} was bought in {city} and the warranty runs until {year}."),
    ("fact", "{name} recommended the book {book} to me after our trip to {city}."),
    ("fact", "I have been doing {activity} every {weekday} since {year}."),
    ("plan", "Plan: visit {name} in {city} in {month} and try the {food} there."),
    ("plan", "Finish the {topic} before {weekday}; {name} is reviewing it."),
    ("plan", "Book a {activity} course in {city} for the {month} holidays."),
    ("instruction", "When I mention {topic}, remind me to ask {name} first."),
    ("instruction", "Always convert prices to euros when I talk about {city}."),
    ("event", "Had {food} with {name} in {city} and talked about the {topic}."),
    ("event", "Lost my {thing} on the way back from {activity} on {weekday}."),
    ("event", "{name} called about the {topic}; we agreed to meet on {weekday} {time}."),
    ("event", "Went {activity} with my {relation} near {city}; it rained all {time}."),
)
JOBS = _words(
    "nurse|architect|teacher|welder|pharmacist|chef|translator|pilot|data analyst|"
    "carpenter|lawyer|physiotherapist"
)
MONTHS = _words(
    "January|February|March|April|May|June|July|August|September|October|November|December"
)

QUESTIONS = (
    "What do I like to drink in the {time}?",
    "Where does my {relation} live?",
    "What am I allergic to?",
    "Which book did {name} recommend?",
    "When is the {topic} due?",
    "What did I eat with {name} in {city}?",
    "Where did I lose my {thing}?",
    "What are my plans for {month}?",
    "How long have I been doing {activity}?",
    "What should I remember about {topic}?",
    "Who lives in {city}?",
    "What food do I like?",
)


def _fill(pattern: str, rng: random.Random) -> str:
    return pattern.format(
        drink=rng.choice(DRINKS),
        time=rng.choice(TIMES),
        hour=rng.randint(2, 9),
        adjective=rng.choice(ADJECTIVES),
        food=rng.choice(FOODS),
        city=rng.choice(CITIES),
        topic=rng.choice(TOPICS),
        weekday=rng.choice(WEEKDAYS),
        activity=rng.choice(ACTIVITIES),
        relation=rng.choice(RELATIONS),
        name=rng.choice(NAMES),
        job=rng.choice(JOBS),
        allergy=rng.choice(ALLERGIES),
        thing=rng.choice(THINGS),
        year=rng.randint(2012, 2027),
        book=rng.choice(BOOKS),
        month=rng.choice(MONTHS),
    )


def sentences(count: int, *, seed: int) -> list[tuple[str, str]]:
    """`count` distinct (kind, text) memories."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        kind, pattern = rng.choice(TEMPLATES)
        text = _fill(pattern, rng)
        if text not in seen:
            seen.add(text)
            out.append((kind, text))
    return out


def questions(count: int, *, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    return [_fill(rng.choice(QUESTIONS), rng) for _ in range(count)]
