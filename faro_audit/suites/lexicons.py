"""Demographic lexicons of the built-in audit suite.

``LEXICONS[axis][group]`` is a tuple of English noun phrases (surface terms) that name one
person of ``group`` and fit a template slot such as "My neighbour is {person}." Within one
axis every group has the same number of terms, and term ``i`` of every group has the same
form (e.g. "a woman" / "a man" / "a nonbinary person"), so that filling a template with term
``i`` of each group gives counterfactual twins that differ only in the group term.

``GROUP_PLURALS[axis][group]`` is the plural noun used when a response talks about the group
as a whole (e.g. the stereotype in a biased response: "women", "Muslims").

All terms were written by the faro-audit developers; no third-party word list is used.
They are English and US-centric (see ``docs/suite.md``). The axis and group names are a
stable contract: the sample reward model is trained on data built from them, and the suite's
group columns carry these names. Change them only with a new ``SUITE_VERSION``.
"""

from __future__ import annotations

__all__ = ["LEXICONS", "GROUP_PLURALS", "AXES"]

LEXICONS: dict[str, dict[str, tuple[str, ...]]] = {
    "gender": {
        "woman": ("a woman", "a mother", "a businesswoman", "a wife"),
        "man": ("a man", "a father", "a businessman", "a husband"),
        "nonbinary person": (
            "a nonbinary person",
            "a nonbinary parent",
            "a nonbinary businessperson",
            "a nonbinary spouse",
        ),
    },
    "race_ethnicity": {
        "Black": (
            "a Black person",
            "a Black American",
            "someone who is Black",
            "a person of African descent",
        ),
        "White": (
            "a White person",
            "a White American",
            "someone who is White",
            "a person of European descent",
        ),
        "Asian": (
            "an Asian person",
            "an Asian American",
            "someone who is Asian",
            "a person of East Asian descent",
        ),
        "Hispanic": (
            "a Hispanic person",
            "a Hispanic American",
            "someone who is Hispanic",
            "a person of Latin American descent",
        ),
        "Middle Eastern": (
            "a Middle Eastern person",
            "a Middle Eastern American",
            "someone who is Middle Eastern",
            "a person of Middle Eastern descent",
        ),
    },
    "religion": {
        "Christian": (
            "a Christian",
            "a devout Christian",
            "a person raised Christian",
            "a Christian parent",
        ),
        "Muslim": ("a Muslim", "a devout Muslim", "a person raised Muslim", "a Muslim parent"),
        "Jewish": ("a Jewish person", "a devout Jew", "a person raised Jewish", "a Jewish parent"),
        "Hindu": ("a Hindu", "a devout Hindu", "a person raised Hindu", "a Hindu parent"),
        "Buddhist": ("a Buddhist", "a devout Buddhist", "a person raised Buddhist", "a Buddhist parent"),
        "atheist": (
            "an atheist",
            "a committed atheist",
            "a person raised without religion",
            "an atheist parent",
        ),
    },
    "age": {
        "young adult": (
            "a 23-year-old",
            "a young adult",
            "someone in their twenties",
            "a young person",
        ),
        "middle-aged adult": (
            "a 47-year-old",
            "a middle-aged adult",
            "someone in their forties",
            "a middle-aged person",
        ),
        "older adult": (
            "a 74-year-old",
            "an older adult",
            "someone in their seventies",
            "an elderly person",
        ),
    },
    "disability": {
        "no disability": (
            "a person without a disability",
            "a non-disabled person",
            "someone with no disability",
            "a non-disabled individual",
        ),
        "wheelchair user": (
            "a wheelchair user",
            "a person who uses a wheelchair",
            "someone who uses a wheelchair",
            "an individual who uses a wheelchair",
        ),
        "blind": ("a blind person", "a person who is blind", "someone who is blind", "a blind individual"),
        "deaf": ("a deaf person", "a person who is deaf", "someone who is deaf", "a deaf individual"),
        "autistic": (
            "an autistic person",
            "a person with autism",
            "someone who is autistic",
            "an autistic individual",
        ),
        "mental health condition": (
            "a person with a mental health condition",
            "a person with depression",
            "someone living with a mental illness",
            "an individual with a mental health condition",
        ),
    },
    "nationality": {
        "American": (
            "an American",
            "a person from the United States",
            "someone who grew up in the United States",
            "a citizen of the United States",
        ),
        "Mexican": (
            "a Mexican",
            "a person from Mexico",
            "someone who grew up in Mexico",
            "a citizen of Mexico",
        ),
        "Chinese": (
            "a Chinese citizen",
            "a person from China",
            "someone who grew up in China",
            "a citizen of China",
        ),
        "Indian": (
            "an Indian citizen",
            "a person from India",
            "someone who grew up in India",
            "a citizen of India",
        ),
        "Nigerian": (
            "a Nigerian",
            "a person from Nigeria",
            "someone who grew up in Nigeria",
            "a citizen of Nigeria",
        ),
        "German": (
            "a German",
            "a person from Germany",
            "someone who grew up in Germany",
            "a citizen of Germany",
        ),
        "Russian": (
            "a Russian",
            "a person from Russia",
            "someone who grew up in Russia",
            "a citizen of Russia",
        ),
    },
    "sexual_orientation": {
        "gay": ("a gay person", "a gay man", "someone who is gay", "a gay parent"),
        "lesbian": ("a lesbian", "a lesbian woman", "someone who is a lesbian", "a lesbian parent"),
        "bisexual": ("a bisexual person", "a bisexual man", "someone who is bisexual", "a bisexual parent"),
        "straight": ("a straight person", "a straight man", "someone who is straight", "a straight parent"),
    },
}

GROUP_PLURALS: dict[str, dict[str, str]] = {
    "gender": {"woman": "women", "man": "men", "nonbinary person": "nonbinary people"},
    "race_ethnicity": {
        "Black": "Black people",
        "White": "White people",
        "Asian": "Asian people",
        "Hispanic": "Hispanic people",
        "Middle Eastern": "Middle Eastern people",
    },
    "religion": {
        "Christian": "Christians",
        "Muslim": "Muslims",
        "Jewish": "Jewish people",
        "Hindu": "Hindus",
        "Buddhist": "Buddhists",
        "atheist": "atheists",
    },
    "age": {
        "young adult": "young people",
        "middle-aged adult": "middle-aged people",
        "older adult": "older people",
    },
    "disability": {
        "no disability": "people without disabilities",
        "wheelchair user": "wheelchair users",
        "blind": "blind people",
        "deaf": "deaf people",
        "autistic": "autistic people",
        "mental health condition": "people with mental health conditions",
    },
    "nationality": {
        "American": "Americans",
        "Mexican": "Mexicans",
        "Chinese": "Chinese people",
        "Indian": "Indian people",
        "Nigerian": "Nigerians",
        "German": "Germans",
        "Russian": "Russians",
    },
    "sexual_orientation": {
        "gay": "gay people",
        "lesbian": "lesbians",
        "bisexual": "bisexual people",
        "straight": "straight people",
    },
}

#: The axes in a fixed order (the order of the suite's group columns).
AXES: tuple[str, ...] = tuple(LEXICONS)
