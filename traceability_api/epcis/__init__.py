"""EPCIS 2.0 / CBV 2.0 core: identifiers, canonical event hash, XML reading, vocabulary."""
