"""A small store of personal notes and questions about them, for the real-model tests of
recall (tests/search/test_recall_quality.py): the kinds of question the fusion must get
right whatever the development sets reward. Not a benchmark: nothing is tuned on it.

Each note is (key, text, days before the last note). Questions name the key of the note
that answers them, or None when no note does.
"""

from __future__ import annotations

NOTES: list[tuple[str, str, int]] = [
    ("staging", "staging db is on port 6543, user ro_reader", 400),
    ("vpn", "the office VPN host is vpn2.corp.example, use the split-tunnel profile", 390),
    ("wifi", "guest wifi password at the cabin: pinecone-42", 380),
    ("coffee", "I drink it black with a splash of oat milk, no sugar", 370),
    ("allergy", "Dr. Kim does my immunotherapy injections every third Thursday", 360),
    ("bike", "bike lock combination is 3-1-7-9", 350),
    ("dentist", "dentist appointment moved to the 14th at 9:30", 340),
    ("passport", "passport expires in August 2027, renew six months ahead", 330),
    ("plants", "water the fiddle leaf fig every ten days, it hates wet feet", 320),
    ("mom_bday", "mom's birthday is on March 3rd, she likes lilies", 310),
    (
        "einteg",
        "EINTEGRITY from the backup job means the tarball was truncated; rerun with --resume",
        300,
    ),
    ("tax", "accountant needs the 1099 forms before February 15", 290),
    ("car", "car insurance renews in October with the same policy number HX-20931", 280),
    ("running", "long run on Sundays, keep it under a 6 minute per km pace", 270),
    ("sourdough", "feed the sourdough starter twice a day when it lives on the counter", 260),
    ("book", "Sarah recommended Piranesi, the novel by Susanna Clarke", 250),
    ("gym", "gym closes at 10pm on weekdays and 6pm on weekends", 240),
    ("keys", "the spare house key is under the blue flower pot by the back door", 230),
    ("vet", "the cat's vet is Dr. Ortega at Elm Street clinic", 220),
    ("ssh", "ssh to the build box with ssh -p 2222 deploy@10.0.3.17", 210),
    ("bob_old", "Bob's phone 555-1234", 200),
    ("lead_old", "my team lead is Marcus", 190),
    ("address_old", "my address is 4 Oak Avenue, Shelbyville", 180),
    ("printer", "the printer on floor 3 needs the blue driver, not the generic one", 170),
    ("sleep", "I sleep better when I stop screens an hour before bed", 160),
    ("invoice", "invoice 1042 is paid", 150),
    ("invoice2", "invoice 1043 is still open", 140),
    ("kid_school", "the kids' school starts at 8:15, pick-up is at 3pm", 130),
    ("bob_new", "Bob's number is now 555-9876, the old one is dead", 60),
    ("lead_new", "Reorg: my new lead is Priya", 40),
    ("address_new", "Moved! New address: 12 Elm Street, Springfield", 20),
    ("recipe", "grandma's lentil soup: cumin, smoked paprika and a bay leaf", 10),
    ("parking", "parking at the stadium is cash only", 0),
]

# (question, key of the answering note or None, kind)
QUESTIONS: list[tuple[str, str | None, str]] = [
    ("how do I take my coffee", "coffee", "paraphrase"),
    ("who gives me my allergy shots", "allergy", "paraphrase"),
    ("how often should I water the big leafy plant", "plants", "paraphrase"),
    ("what novel did my friend suggest", "book", "paraphrase"),
    ("where did I hide the extra key to the house", "keys", "paraphrase"),
    ("what do I need to give the tax person", "tax", "paraphrase"),
    ("when can I go work out on saturday", "gym", "paraphrase"),
    ("EINTEGRITY", "einteg", "exact"),
    ("HX-20931", "car", "exact"),
    ("10.0.3.17", "ssh", "exact"),
    ("staging db port", "staging", "exact"),
    ("pinecone-42", "wifi", "exact"),
    ("what is Bob's phone number", "bob_new", "update"),
    ("who is my team lead", "lead_new", "update"),
    ("what is my address", "address_new", "update"),
    ("what is the capital of Mongolia", None, "unrelated"),
    ("how many moons does Jupiter have", None, "unrelated"),
    ("kubernetes ingress timeout settings", None, "unrelated"),
]
