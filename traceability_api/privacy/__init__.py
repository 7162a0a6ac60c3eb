"""Privacy: each event's visibility (public, partners, private), its salted disclosure commitment
(consensus/disclosure.py) and the fields shown to the public, and sharing grants of lots.  Below
events (capture commits, reads filter) and above lots and parties."""
